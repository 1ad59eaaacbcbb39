"""``GET /checkpoint``: the latest operator-signed checkpoint (or ``?size=`` an earlier one),
public, no sign-in: its origin, size, root hash and the signed note's text, the witness
cosignatures held for it (which witness, when, and whether the signature is good for the key
it came with), and how to check it all yourself with ``rural-ledger verify`` and the operator
key, whose fingerprint is shown to compare with the one the operator publishes."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from api.console.audit_desk_reads import BAD_SIZE, checkpoint_view, fingerprint, known_witnesses, size_of
from api.console.public_board import BOARD_NAV
from api.console.public_board_reads import public_headers
from api.console.render import page
from api.console.verify_evidence import OperatorKey
from api.http.dependencies import Db, Service
from api.service.replica import REPLICA_READS  # a public page: may be read from a replica

MAX_AGE = 10  # seconds: a new checkpoint follows every batch


@get("/checkpoint", include_in_schema=False, name="public_checkpoint", opt=REPLICA_READS)
async def checkpoint_page(request: Request[Any, Any, Any], service: Service, db: Db) -> Response[str]:
    headers = public_headers(request, MAX_AGE)
    size = size_of(request.query_params.get("size"))
    if size == BAD_SIZE:
        return page(
            request,
            "checkpoint_missing.html",
            status_code=400,
            headers=headers,
            nav=BOARD_NAV,
            reason_key="checkpoint.bad_size",
            size="",
        )
    view = await checkpoint_view(db, size, known_witnesses(request.app))
    if view is None:
        return page(
            request,
            "checkpoint_missing.html",
            status_code=404,
            headers=headers,
            nav=BOARD_NAV,
            reason_key="checkpoint.none",
            size=size,
        )
    key = OperatorKey.of(service.verifier)
    return page(
        request,
        "checkpoint.html",
        headers=headers,
        nav=BOARD_NAV,
        title_key="checkpoint.title",
        cp=view,
        key=key,
        fingerprint=fingerprint(key.text),
        base_url=str(request.base_url).rstrip("/"),
        latest=size is None,
    )


ROUTES: list[Any] = [checkpoint_page]
