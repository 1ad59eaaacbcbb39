"""What auditors and witnesses need: the export stream, the state digest of the projection
tables, and witness cosignatures of checkpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Stream
from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.audit.export import export_stream
from api.http.body import decode_json, require_json
from api.http.dependencies import Db, Service
from api.http.problems import ApiProblem
from api.http.routes.paging import MAX_SEQ
from api.http.routes.proofs import checkpoint_or_404
from api.http.wire import audit as wire
from api.service.replica import REPLICA_READS
from contracts.digest import BUCKETS, DigestBuilder, RowDigest, StateDigest, bucket_rows, table_name
from contracts.rulebook import PROJECTION_MODELS
from ledger import store
from ledger.checkpoint import parse_note
from ledger.errors import Category, IntegrityError, MalformedError
from ledger.witness import CosignerVerifier

ROW_READ = 5000
MAX_COSIGNATURE_BODY = 4096


def _table_rows(conn: Connection, model: type) -> Any:
    table = model.__table__  # type: ignore[attr-defined]
    return conn.execute(select(table).execution_options(yield_per=ROW_READ)).mappings()


def _size(conn: Connection) -> int:
    latest = store.latest_checkpoint(conn)
    return latest.size if latest else 0


def state_digest(conn: Connection) -> tuple[int, StateDigest]:
    """The digest of every projection table, and the tree size it belongs to. The caller
    runs this in one REPEATABLE READ transaction: projections and checkpoint are written in
    the same append transaction, so one snapshot sees them agree."""
    size = _size(conn)
    builder = DigestBuilder(PROJECTION_MODELS)
    for model in PROJECTION_MODELS:
        builder.add_all(model, _table_rows(conn, model))
    return size, builder.finish()


def _model(name: str) -> type:
    for model in PROJECTION_MODELS:
        if table_name(model) == name:
            return model
    raise ApiProblem(
        Category.NOT_FOUND,
        "state.unknown_table",
        f"no projection table {name!r}; known: {sorted(table_name(m) for m in PROJECTION_MODELS)}",
    )


async def _snapshot(db: AsyncConnection, fn: Any, *args: Any) -> Any:
    """``fn`` run on ``db`` in one REPEATABLE READ transaction (``db`` must not have begun one)."""
    await db.execution_options(isolation_level="REPEATABLE READ")
    return await db.run_sync(fn, *args)


class CosignatureSubmission(msgspec.Struct, forbid_unknown_fields=True):
    size: int
    witness_key: str
    cosignature: str  # the note signature line, "— <name> <base64>"


class AuditController(Controller):
    path = "/v1"
    tags = ["audit"]

    @get(
        "/export",
        operation_id="exportLedger",
        media_type="application/x-ndjson",
        summary="The ledger as JSON lines: records' canonical bytes, Merkle nodes, checkpoints",
        opt=REPLICA_READS,
    )
    async def export(
        self,
        service: Service,
        db: Db,
        after: Annotated[int, QueryParameter(ge=-1, le=MAX_SEQ)] = -1,
        nodes: Annotated[bool, QueryParameter()] = True,
    ) -> Stream:
        size = await db.run_sync(_size)
        if after > max(size - 1, -1):
            raise ApiProblem(
                Category.MALFORMED,
                "export.after_out_of_range",
                f"after must be in [-1, {size - 1}], found {after}",
            )
        # The stream outlives the request's connection: it reads on connections of its own.
        return Stream(
            export_stream(service.engine, after, nodes=nodes, upto=size), media_type="application/x-ndjson"
        )

    @get(
        "/state-digest",
        operation_id="getStateDigest",
        summary="Order-independent digest of the projection tables; drill down by table, bucket",
    )
    async def digest(
        self,
        db: Db,
        table: Annotated[str | None, QueryParameter()] = None,
        bucket: Annotated[int | None, QueryParameter(ge=0, lt=BUCKETS)] = None,
    ) -> wire.StateDigest | wire.TableDigest | wire.BucketRows:
        if table is None:
            if bucket is not None:
                raise ApiProblem(Category.MALFORMED, "state.bucket_without_table", "bucket needs a table")
            size, digest = await _snapshot(db, state_digest)
            return wire.StateDigest(
                size,
                digest.digest.hex(),
                {
                    name: wire.TableSummary(t.rows, t.digest.hex())
                    for name, t in sorted(digest.tables.items())
                },
            )
        model = _model(table)
        if bucket is None:
            size, digest = await _snapshot(db, state_digest)
            t = digest.tables[table]
            return wire.TableDigest(size, table, t.rows, t.digest.hex(), [b.hex() for b in t.buckets])

        def rows(conn: Connection) -> tuple[int, list[RowDigest]]:
            return _size(conn), bucket_rows(model, _table_rows(conn, model), bucket)

        size, found = await _snapshot(db, rows)
        return wire.BucketRows(
            size, table, bucket, [wire.BucketRow(r.key, r.hash.hex(), r.values) for r in found]
        )

    @post(
        "/witness/cosignatures",
        operation_id="postCosignature",
        status_code=201,
        summary="Keep a witness's cosignature (C2SP tlog-cosignature) of a stored checkpoint",
    )
    async def post_cosignature(self, request: Request[Any, Any, Any], db: Db) -> wire.CosignatureStored:
        raw = await request.body()
        if len(raw) > MAX_COSIGNATURE_BODY:
            raise ApiProblem(Category.TOO_LARGE, "request.too_large", "a cosignature is a few hundred bytes")
        require_json(request.headers.get("content-type"))
        try:
            sub = decode_json(raw, CosignatureSubmission)
        except msgspec.ValidationError as e:
            raise ApiProblem(
                Category.MALFORMED,
                "witness.malformed",
                f'expected {{"size", "witness_key", "cosignature"}}: {e}',
            ) from e
        try:
            witness = CosignerVerifier.from_string(sub.witness_key)
        except MalformedError as e:
            raise ApiProblem(Category.MALFORMED, "witness.bad_key", str(e)) from e
        checkpoint = await db.run_sync(store.checkpoint_at, sub.size)
        if checkpoint is None:
            raise ApiProblem(Category.NOT_FOUND, "checkpoint.not_found", f"no checkpoint of size {sub.size}")
        try:
            line = parse_note(checkpoint.note + sub.cosignature.rstrip("\n") + "\n").signatures[-1]
            cosignature = witness.check(parse_note(checkpoint.note).body, line)
        except (MalformedError, IntegrityError) as e:
            raise ApiProblem(
                Category.INVALID,
                "witness.bad_cosignature",
                f"not a valid cosignature of checkpoint {sub.size} by this key: {e}",
            ) from e
        stored = await db.run_sync(
            lambda c: store.write_cosignature(
                c,
                size=sub.size,
                witness_key=str(witness),
                name=witness.name,
                key_hash=witness.key_hash,
                timestamp=cosignature.timestamp,
                signature=cosignature.signature,
                line=cosignature.line(),
                at=datetime.now(UTC),
            )
        )
        await db.commit()
        return wire.CosignatureStored(sub.size, witness.name, stored)

    @get(
        "/witness/cosignatures",
        operation_id="listCosignatures",
        summary="Witness cosignatures held for a checkpoint",
    )
    async def list_cosignatures(
        self,
        db: Db,
        size: Annotated[int, QueryParameter(ge=1, le=MAX_SEQ)],
    ) -> wire.Cosignatures:
        found = await db.run_sync(store.cosignatures_for, [size])
        return wire.Cosignatures(size, [wire.Cosignature(c.witness_key, c.line) for c in found.get(size, [])])

    @get(
        "/checkpoint/cosigned",
        operation_id="getCosignedCheckpoint",
        media_type="text/plain",
        summary="A checkpoint with every witness cosignature held for it (signed note)",
    )
    async def cosigned(
        self,
        db: Db,
        size: Annotated[int | None, QueryParameter(ge=1, le=MAX_SEQ)] = None,
    ) -> Response[str]:
        cp = await checkpoint_or_404(db, size)
        found = await db.run_sync(store.cosignatures_for, [cp.size])
        note = cp.note + "".join(c.line for c in found.get(cp.size, []))
        return Response(note, media_type="text/plain")
