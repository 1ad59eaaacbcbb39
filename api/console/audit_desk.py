"""The auditor's desk (``/console/audit/...``), read-only: the latest checkpoints in pages,
newest first, each with how many witness cosignatures it holds (its page, ``/checkpoint?size=``,
checks each again); the state digest of the projection tables (``GET /v1/state-digest``, table
by table); links to the export stream, to certificate verification and to the announcement
board. No form here acts.

Served to users of role ``auditor`` only (of any organisation: what is shown is the public
log's, hashes and counts, never a person's name or ID number).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from api.console.audit_desk_reads import (
    BAD_SIZE,
    checkpoint_view,
    digest_of,
    known_witnesses,
    recent_checkpoints,
    size_of,
)
from api.console.auth_routes import CONSOLE
from api.console.desk import desk_page
from api.console.guard import SignedIn, for_roles
from api.console.public_board_reads import CSP
from api.http.dependencies import Db, Service

ROLE = for_roles("auditor")
HOME = "/console/audit/"
DIGEST = HOME + "digest"
NAV = (
    (HOME, "audit.nav.checkpoints"),
    (DIGEST, "audit.nav.digest"),
    ("/checkpoint", "audit.nav.checkpoint"),
    ("/board", "audit.nav.board"),
    ("/verify", "nav.verify"),
)
PAGE_SIZE = 25
LINKS = (
    ("/v1/export", "audit.link.export"),
    ("/v1/checkpoints", "audit.link.checkpoints"),
    ("/v1/state-digest", "audit.link.digest"),
    ("/v1/exchange/feed.atom", "audit.link.feed"),
    ("/verify", "audit.link.verify"),
    ("/board", "audit.link.board"),
    ("/board/results", "audit.link.results"),
)


def audit_page(
    request: Request[Any, Any, Any], console: SignedIn, template: str, status_code: int = 200, **context: Any
) -> Response[Any]:
    response = desk_page(request, console, template, NAV, status_code=status_code, **context)
    response.headers["Content-Security-Policy"] = CSP
    return response


@get(HOME, opt=ROLE, **CONSOLE)
async def audit_home(request: Request[Any, Any, Any], console: SignedIn, db: Db) -> Response[Any]:
    """The latest checkpoint and its cosignatures, then every checkpoint, newest first."""
    before = size_of(request.query_params.get("before"))
    if before == BAD_SIZE:
        return audit_page(
            request,
            console,
            "audit_home.html",
            400,
            bad=True,
            latest=None,
            rows=[],
            more=None,
            links=LINKS,
            before=None,
        )
    latest = await checkpoint_view(db, None, known_witnesses(request.app))
    rows, more = await recent_checkpoints(db, before, PAGE_SIZE)
    return audit_page(
        request,
        console,
        "audit_home.html",
        bad=False,
        latest=latest,
        rows=rows,
        more=more,
        links=LINKS,
        before=before,
    )


@get(DIGEST, opt=ROLE, **CONSOLE)
async def audit_digest(request: Request[Any, Any, Any], console: SignedIn, service: Service) -> Response[Any]:
    """The state digest of the projection tables, as ``GET /v1/state-digest`` gives it."""
    size, digest, tables = await digest_of(service.engine)
    return audit_page(request, console, "audit_digest.html", size=size, digest=digest, tables=tables)


ROUTES: list[Any] = [audit_home, audit_digest]
