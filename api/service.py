"""The running ledger: engine, appender and group commit, plus the reads the routes need."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from litestar.di import NamedDependency
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from api.projections import ProjectionBackend
from ledger import store
from ledger.appender import Appender, Clock, system_clock
from ledger.checkpoint import NoteSigner, NoteVerifier
from ledger.entry import SignedEntry, parse_submission
from ledger.errors import IntegrityError, Rejection
from ledger.group_commit import GroupCommitter
from ledger.merkle import CompactRange
from ledger.proofs import consistency_nodes, inclusion_nodes


class NotInitialised(RuntimeError):
    pass


@dataclass
class LedgerService:
    engine: AsyncEngine
    origin: str
    verifier: NoteVerifier
    appender: Appender
    committer: GroupCommitter

    @classmethod
    async def open(cls, engine: AsyncEngine, signer: NoteSigner,
                   clock: Clock = system_clock, max_batch: int = 2000) -> LedgerService:
        async with engine.connect() as conn:
            meta = await conn.run_sync(store.read_meta)
            if meta is None:
                raise NotInitialised("the database holds no ledger: run `rural-ledger init`")
            await conn.run_sync(self_check)
        if str(signer.verifier()) != meta.operator_key:
            raise IntegrityError("the operator key file does not match this ledger's operator key")
        appender = Appender(engine, meta.origin, signer, ProjectionBackend(), clock)
        return cls(engine, meta.origin, signer.verifier(), appender,
                   GroupCommitter(appender, max_batch))

    async def close(self) -> None:
        await self.committer.stop()

    async def submit(self, items: Sequence[Any]) -> list[dict[str, Any] | Rejection]:
        """Check each submission's shape, append the well-formed ones; results in order."""
        parsed: list[SignedEntry | Rejection] = []
        for item in items:
            try:
                parsed.append(parse_submission(item, self.origin))
            except Rejection as r:
                parsed.append(r)
        results = iter(await self.committer.submit([p for p in parsed if isinstance(p, SignedEntry)]))
        out: list[dict[str, Any] | Rejection] = []
        for p in parsed:
            if isinstance(p, Rejection):
                out.append(p)
            else:
                r = next(results)
                out.append(r if isinstance(r, Rejection) else r.as_json())
        return out

    async def read(self, fn: Any, *args: Any) -> Any:
        """Run a synchronous store read on a pooled connection."""
        async with self.engine.connect() as conn:
            return await conn.run_sync(fn, *args)


def self_check(conn: Connection) -> None:
    """The latest checkpoint must match the stored Merkle nodes and the record count."""
    latest = store.latest_checkpoint(conn)
    count = store.record_count(conn)
    if latest is None:
        if count:
            raise IntegrityError(f"{count} records but no checkpoint")
        return
    if latest.size != count:
        raise IntegrityError(f"latest checkpoint is of size {latest.size}, {count} records stored")
    ids = CompactRange.decomposition(latest.size)
    nodes = store.read_nodes(conn, ids)
    root = CompactRange(latest.size, [nodes[i] for i in ids]).root()
    if root != latest.root_hash:
        raise IntegrityError(f"stored nodes give root {root.hex()} at size {latest.size}, "
                             f"the checkpoint says {latest.root_hash.hex()}")


def inclusion_proof(conn: Connection, seq: int, size: int) -> list[bytes]:
    plan = inclusion_nodes(seq, size)
    nodes = store.read_nodes(conn, plan.ids)
    return plan.rehash([nodes[i] for i in plan.ids])


def consistency_proof(conn: Connection, size1: int, size2: int) -> list[bytes]:
    plan = consistency_nodes(size1, size2)
    nodes = store.read_nodes(conn, plan.ids)
    return plan.rehash([nodes[i] for i in plan.ids])


Service = NamedDependency[LedgerService]
"""How a route asks for the running ledger."""
