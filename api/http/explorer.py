"""The API explorer at ``/schema``, served whole by the service: Swagger UI's scripts, style and
icon come from the packaged distribution ``swagger-ui-bundle-v2`` (Swagger UI 5, Apache-2.0,
its licence in the package's metadata), never from a CDN, so the explorer works on a machine
without internet and the page makes no request anywhere but here.

The assets' URLs carry the bundle's version (``swagger-ui-5.31.0``), so a browser may keep
them for a year: a new bundle comes with new URLs.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Any

from litestar import Router
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin
from litestar.response import Response
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

from api.http.problems import PROBLEM_MEDIA_TYPE, problem
from ledger.errors import Category

SCHEMA_PATH = "/schema"
BUNDLE = Path(str(swagger_ui_path))
ASSETS_PATH = f"{SCHEMA_PATH}/assets/{BUNDLE.name}"
# What the explorer page loads; nothing else of the bundle is served (its index.html would
# load the Petstore example from the internet).
ASSETS = frozenset(
    {
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-ui.css",
        "favicon-16x16.png",
        "favicon-32x32.png",
    }
)
FAVICON = f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>"


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI at ``/schema`` (and ``/schema/swagger``) from the local assets, and the
    document as YAML; ``/schema/openapi.json`` is Litestar's own."""
    return [
        SwaggerRenderPlugin(
            path="/swagger",
            js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            css_url=f"{ASSETS_PATH}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
            favicon=FAVICON,
        ),
        YamlRenderPlugin(path=["/openapi.yaml", "/openapi.yml"], favicon=FAVICON),
    ]


def _only_explorer_assets(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    path = PurePath(str(connection.path_params.get("file_path", ""))).as_posix()
    if path.lstrip("/") not in ASSETS:
        raise NotFoundException(f"no explorer asset {connection.url.path}")


def _schema_page_not_found_as_problem(response: Response[Any]) -> Response[Any]:
    """Litestar answers an unknown ``/schema/...`` page with its own HTML 404; here it is a
    problem document like every other 404."""
    if response.status_code != 404 or response.media_type == PROBLEM_MEDIA_TYPE:
        return response
    body = problem(Category.NOT_FOUND, "not_found", "no such page of the API documentation", status=404)
    return Response(body, status_code=404, media_type=PROBLEM_MEDIA_TYPE)


def openapi_router() -> Router:
    """The router under ``/schema`` that Litestar adds the explorer's pages to, with the assets
    beside them. A new one for every app."""
    assets = create_static_files_router(
        path=ASSETS_PATH.removeprefix(SCHEMA_PATH),
        directories=[BUNDLE],
        name="explorer-assets",
        guards=[_only_explorer_assets],
        cache_control=CacheControlHeader(max_age=365 * 24 * 3600, public=True),
        include_in_schema=False,
    )
    return Router(
        SCHEMA_PATH,
        route_handlers=[assets],
        include_in_schema=False,
        after_request=_schema_page_not_found_as_problem,
    )
