"""The reads of the tree that a request is answered with in one round trip: inclusion and
consistency proofs, a record, a checkpoint. Each is one statement on the driver's connection
under the request's pooled connection (``ledger.driver_reads``, ``ledger.stored_proofs``),
with no transaction around it (no BEGIN, no ROLLBACK): where the service's proof routes made
five round trips, they make one.

The latest checkpoint's size is never remembered as a fact: another worker process of the
same ledger (``serve --workers N``, each with its own appender) may have appended since, and a
replica's latest is behind the primary's. It is read by the same statement as the proof, and
a range is checked against what that statement saw. What is remembered, per engine (so per
ledger, and the primary's and a replica's apart), is a *guess* of it, for a proof asked in
the latest tree (no ``size`` or ``to``): the statement reads the proof for the guessed size
and the latest size beside it; when they differ, a second statement reads the proof in the
tree of the size just read, which was the latest during the request. So a "latest" answered
is never older than the request, whatever the other processes did.

A connection the server dropped while it was read through the driver is invalidated, so that
the pool does not hand it out again (SQLAlchemy does that for the statements it runs itself),
and the read fails as the database being unreachable (503, and a replica's breaker trips).
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncConnection

from ledger import driver_reads, stored_proofs
from ledger.driver_reads import Driver
from ledger.errors import database_unreachable
from ledger.store import StoredCheckpoint
from ledger.stored_proofs import ProofRead

T = TypeVar("T")

# Engine -> the largest latest size one of its statements saw: a guess, never a fact.
_latest_seen: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()


async def on_driver(db: AsyncConnection, read: Callable[[Driver], Awaitable[T]]) -> T:
    """``read`` on the driver's connection under ``db``, outside any transaction (unless the
    caller began one on ``db``)."""
    driver = (await db.get_raw_connection()).driver_connection
    assert driver is not None  # a checked-out connection has its driver's
    try:
        return await read(driver)
    except Exception as e:
        lost = driver.is_closed()
        if lost or database_unreachable(e):
            with contextlib.suppress(Exception):
                await db.invalidate(e)
        if lost and not database_unreachable(e):
            # The server closed the connection under a statement the driver had begun (its
            # error then names its own state, not the connection): said as what it is.
            raise ConnectionResetError("the database closed the connection during a read") from e
        raise


@dataclass(frozen=True, slots=True)
class TreeAnswer:
    """A proof asked in the tree of ``size`` (the one named, else the latest), beside the
    latest size the same statement saw; ``proof`` is None when the range is not in it."""

    size: int
    latest: int
    proof: list[bytes] | None
    leaf: bytes = b""


async def inclusion(db: AsyncConnection, seq: int, size: int | None) -> TreeAnswer:
    """Record ``seq``'s inclusion proof in the tree of ``size`` (None: the latest), when
    ``seq < size <= latest``."""

    async def read(target: int) -> ProofRead:
        if 0 <= seq < target:
            return await on_driver(db, lambda d: stored_proofs.read_inclusion(d, seq, target))
        return ProofRead(await on_driver(db, driver_reads.latest_size), None)

    return await _in_tree(db, size, read)


async def consistency(db: AsyncConnection, size1: int, size2: int | None) -> TreeAnswer:
    """The proof that the tree of ``size1`` is a prefix of the tree of ``size2`` (None: the
    latest), when ``size1 <= size2 <= latest``."""

    async def read(target: int) -> ProofRead:
        if 0 <= size1 <= target:
            return await on_driver(db, lambda d: stored_proofs.read_consistency(d, size1, target))
        return ProofRead(await on_driver(db, driver_reads.latest_size), None)

    return await _in_tree(db, size2, read)


async def _in_tree(
    db: AsyncConnection, size: int | None, read: Callable[[int], Awaitable[ProofRead]]
) -> TreeAnswer:
    engine = db.sync_engine
    target = size if size is not None else _latest_seen.get(engine, 0)
    got = await read(target)
    _saw(engine, got.latest)
    latest = got.latest
    if size is None and target != latest:
        # The guess was not the latest: the proof in the tree of the size just read (its
        # nodes are stored: it was the latest during this request). A later size the second
        # statement may see is newer than the request, and not needed; a smaller one (a
        # server behind the first, between the two statements) leaves the range out of it.
        target = latest
        got = await read(target)
        _saw(engine, got.latest)
        latest = min(latest, got.latest)
    return TreeAnswer(target, latest, got.proof, got.leaf)


def _saw(engine: Engine, latest: int) -> None:
    if latest > _latest_seen.get(engine, 0):
        _latest_seen[engine] = latest


async def record(db: AsyncConnection, seq: int) -> tuple[bytes, bytes] | None:
    """Record ``seq``'s canonical body and leaf hash; None when there is none."""
    return await on_driver(db, lambda d: driver_reads.record_at(d, seq))


async def checkpoint(db: AsyncConnection, size: int | None) -> StoredCheckpoint | None:
    """The latest checkpoint (``size`` None) or the one of ``size``; None when there is none."""
    return await on_driver(db, lambda d: driver_reads.checkpoint(d, size))


async def latest_size(db: AsyncConnection) -> int:
    """The latest checkpoint's size; 0 while there is none."""
    return await on_driver(db, driver_reads.latest_size)
