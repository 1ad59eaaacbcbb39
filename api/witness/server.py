"""The witness's HTTP service: ``POST /add-checkpoint`` (C2SP tlog-witness).

The order of checks and the statuses are ``ledger.witness_protocol``'s; this module reads the
body, runs the check and the state update as one step (``WitnessState.advance``), and only
then cosigns (C2SP tlog-cosignature v1) and answers with the cosignature line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar, Request, Response, get, post

from api.witness.state import WitnessState
from ledger.checkpoint import NoteVerifier
from ledger.witness import CosignerSigner
from ledger.witness_protocol import (
    SIZE_MEDIA_TYPE,
    AddCheckpoint,
    WitnessRefusal,
    check_add_checkpoint,
    malformed,
    parse_add_checkpoint,
)

MAX_BODY = 64 * 1024  # 63 proof lines and a note of 100 signatures fit many times over
TEXT = "text/plain"  # Litestar adds the charset
log = logging.getLogger("rural_ledger.witness")


@dataclass
class Witness:
    signer: CosignerSigner
    trusted: Mapping[str, Sequence[NoteVerifier]]  # origin -> the log keys trusted for it
    state: WitnessState
    clock: Callable[[], float] = field(default=time.time)

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line for an ``add-checkpoint`` body, or a ``WitnessRefusal``."""
        request = parse_add_checkpoint(body)
        origin = _origin(request)
        checkpoint = self.state.advance(
            origin, lambda cosigned: check_add_checkpoint(request, self.trusted, cosigned), request.note, body
        )
        # Stored before cosigning: a crash here leaves a size on disk nobody has a cosignature
        # for, which the log's next request (409 with this size) simply moves past.
        note_body = checkpoint.body().decode()
        return self.signer.cosign(note_body, int(self.clock())).line()


def _origin(request: AddCheckpoint) -> str:
    first = request.note.partition("\n")[0]
    if not first:
        raise malformed("checkpoint: the origin line is empty")
    return first


def _refused(refusal: WitnessRefusal) -> Response[str]:
    if refusal.size is not None:
        return Response(f"{refusal.size}\n", status_code=refusal.status, media_type=SIZE_MEDIA_TYPE)
    return Response(f"{refusal.code}: {refusal.message}\n", status_code=refusal.status, media_type=TEXT)


def witness_app(witness: Witness) -> Litestar:
    @post("/add-checkpoint", status_code=200, media_type=TEXT)
    async def add_checkpoint(request: Request[Any, Any, Any]) -> Response[str]:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return Response("request body too large\n", status_code=413, media_type=TEXT)
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response("request body too large\n", status_code=413, media_type=TEXT)
        try:
            line = await asyncio.to_thread(witness.add_checkpoint, body)
        except WitnessRefusal as refusal:
            log.info("add-checkpoint refused: %s %s", refusal.status, refusal.code)
            return _refused(refusal)
        return Response(line, media_type=TEXT)

    @get("/", media_type=TEXT)
    async def about() -> str:
        logs = "".join(f"  {origin}\n" for origin in sorted(witness.trusted))
        return f"witness {witness.signer.verifier()}\nlogs\n{logs}"

    return Litestar(
        route_handlers=[add_checkpoint, about],
        request_max_body_size=MAX_BODY,
        on_shutdown=[witness.state.close],
    )
