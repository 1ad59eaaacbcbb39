"""Checkpoints and Merkle proofs: everything an auditor needs to check a receipt."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from api.http.dependencies import Db
from api.http.problems import ApiProblem
from api.http.routes.paging import MAX_SEQ
from api.http.wire.records import CheckpointPage, ConsistencyProof, InclusionProof, SignedCheckpoint
from api.service.replica import REPLICA_READS
from ledger import store, stored_proofs
from ledger.errors import Category


async def tree_size(db: AsyncConnection) -> int:
    latest = await db.run_sync(store.latest_checkpoint)
    return latest.size if latest else 0


async def checkpoint_or_404(db: AsyncConnection, size: int | None) -> store.StoredCheckpoint:
    """The latest checkpoint, or the one of ``size``; a 404 problem when there is none."""
    cp = await db.run_sync(
        store.latest_checkpoint if size is None else lambda c: store.checkpoint_at(c, size)
    )
    if cp is None:
        raise ApiProblem(
            Category.NOT_FOUND,
            "checkpoint.not_found",
            "no checkpoint yet" if size is None else f"no checkpoint of size {size}",
        )
    return cp


class ProofController(Controller):
    path = "/v1"
    tags = ["proofs"]
    opt = REPLICA_READS  # every read here may be served by a replica (api.service.replica)

    @get(
        "/checkpoint",
        operation_id="getCheckpoint",
        media_type="text/plain",
        summary="The latest signed checkpoint, or the one of a given size (C2SP signed note)",
    )
    async def checkpoint(
        self,
        db: Db,
        size: Annotated[int | None, QueryParameter(ge=1, le=MAX_SEQ)] = None,
    ) -> Response[str]:
        cp = await checkpoint_or_404(db, size)
        return Response(cp.note, media_type="text/plain")

    @get(
        "/checkpoints",
        operation_id="listCheckpoints",
        summary="Every signed checkpoint after a size, smallest first",
    )
    async def checkpoints(
        self,
        db: Db,
        after: Annotated[int, QueryParameter(ge=0, le=MAX_SEQ)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> CheckpointPage:
        rows = await db.run_sync(store.read_checkpoints, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return CheckpointPage(
            [SignedCheckpoint(c.size, c.root_hash.hex(), c.note) for c in rows],
            rows[-1].size if more else None,
        )

    @get(
        "/proofs/inclusion",
        operation_id="getInclusionProof",
        summary="Proof that record seq is in the tree of the given size (default: latest)",
    )
    async def inclusion(
        self,
        db: Db,
        seq: Annotated[int, QueryParameter(ge=0, le=MAX_SEQ)],
        size: Annotated[int | None, QueryParameter(ge=1, le=MAX_SEQ)] = None,
    ) -> InclusionProof:
        latest = await tree_size(db)
        size = latest if size is None else size
        if not seq < size <= latest:
            raise ApiProblem(
                Category.MALFORMED,
                "proof.out_of_range",
                f"need seq < size <= {latest}, found seq={seq} size={size}",
            )
        rows = await db.run_sync(store.read_records, seq - 1, 1)
        proof = await db.run_sync(stored_proofs.inclusion_proof, seq, size)
        return InclusionProof(seq, size, rows[0].leaf_hash.hex(), [h.hex() for h in proof])

    @get(
        "/proofs/consistency",
        operation_id="getConsistencyProof",
        summary="Proof that the tree of size `to` extends the tree of size `from`",
    )
    async def consistency(
        self,
        db: Db,
        from_: Annotated[int, QueryParameter(name="from", ge=0, le=MAX_SEQ)],
        to: Annotated[int | None, QueryParameter(ge=1, le=MAX_SEQ)] = None,
    ) -> ConsistencyProof:
        latest = await tree_size(db)
        to = latest if to is None else to
        if not from_ <= to <= latest:
            raise ApiProblem(
                Category.MALFORMED,
                "proof.out_of_range",
                f"need from <= to <= {latest}, found from={from_} to={to}",
            )
        proof = await db.run_sync(stored_proofs.consistency_proof, from_, to)
        return ConsistencyProof(from_, to, [h.hex() for h in proof])
