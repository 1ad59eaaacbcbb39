"""``GET /v1/proofs/offline``: a record's offline proof file (C2SP tlog-proof, docs/witness.md)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import QueryParameter

from api.http.dependencies import Db
from api.http.problems import ApiProblem
from api.http.routes.paging import MAX_SEQ
from api.service.proof_files import proof_file
from api.service.replica import REPLICA_READS
from ledger.errors import Category, MalformedError

MEDIA_TYPE = "text/plain"  # Litestar adds "; charset=utf-8"


class ProofFileController(Controller):
    path = "/v1/proofs"
    tags = ["proofs"]
    opt = REPLICA_READS  # a read: a replica may serve it (api.service.replica)

    @get(
        "/offline",
        operation_id="getOfflineProof",
        media_type=MEDIA_TYPE,
        summary="A record's offline proof (C2SP tlog-proof): index, inclusion path, cosigned checkpoint",
    )
    async def offline(
        self,
        db: Db,
        seq: Annotated[int, QueryParameter(ge=0, le=MAX_SEQ)],
        size: Annotated[int | None, QueryParameter(ge=1, le=MAX_SEQ)] = None,
    ) -> Response[str]:
        try:
            found = await db.run_sync(proof_file, seq, size)
        except MalformedError as e:
            raise ApiProblem(Category.NOT_FOUND, "proof.no_checkpoint", str(e)) from e
        return Response(
            found.text(),
            media_type=MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="record-{seq}.tlog-proof"'},
        )
