"""The console's styles and scripts at ``/console/static/...``, from the package's ``static``
folder: every page loads only these, so a page works on a machine without internet."""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/console/static"


def static_router() -> Router:
    """A new router for every app; the files change only with a new build, so an hour's cache."""
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC_DIR],
        name="console_static",
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=3600, public=True),
        html_mode=False,
    )
