"""``/``: the front page, saying what this ledger is and where to look."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, get
from sqlmodel import col, select

from api.http.dependencies import Db, Service, Session
from api.reads.evidence import snapshot
from api.reads.index_page import Example, IndexView, render
from contracts.certificates import Certificate

# The printable statements' pages, linked when this build of the service has them.
PRINTED_PARTY_RIGHTS = "/v1/parties/{party_id:str}/rights/print"


@get(
    "/",
    operation_id="getIndexPage",
    tags=["pages"],
    media_type=MediaType.HTML,
    summary="The front page (HTML): origin, size, the operator's verifier key, links",
)
async def index_page(request: Request[Any, Any, Any], service: Service, db: Db, session: Session) -> str:
    snap = await snapshot(db)
    latest = (
        await session.exec(select(Certificate).order_by(col(Certificate.issued_seq).desc()).limit(1))
    ).first()
    example = (
        None
        if latest is None
        else Example(latest.id, latest.household_id, latest.persons[0] if latest.persons else None)
    )
    view = IndexView(
        service.origin,
        str(service.verifier),
        snap,
        str(request.base_url).rstrip("/"),
        example,
        printed_statements=PRINTED_PARTY_RIGHTS in {route.path for route in request.app.routes},
    )
    return render(view)
