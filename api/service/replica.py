"""Reads served from a replica (``RURAL_LEDGER_READ_URL``, docs/ha.md), never writes.

A route opts in with ``opt=REPLICA_READS``; only its GET (and HEAD) requests go to the replica,
and only when one is configured. A replica lags the primary a little: its latest checkpoint is
an earlier one, signed and consistent with every later one, and its pages stop earlier. A read
that names a position the replica does not hold yet (a ``seq``, ``size``, ``to``, ``from`` or
``after`` past its tree) is served by the primary instead, so a client asking about what it
has just been given a receipt for always gets its answer; so is every read while the replica
cannot be reached. The position is read from the request's path and query parameters by name,
before validation: a value that is not an integer names no position (the route refuses it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import weakref
from collections.abc import Mapping
from time import monotonic
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ledger import store
from ledger.errors import database_unreachable

log = logging.getLogger("rural_ledger.replica")

REPLICA_OPT = "reads_from_replica"
REPLICA_READS: dict[str, Any] = {REPLICA_OPT: True}
READ_METHODS = frozenset({"GET", "HEAD"})
# Parameter name -> how far the tree must reach for the replica to answer: a record at ``seq``
# needs size seq + 1; a page ``after`` a seq needs size after + 1; the rest name a size.
POSITION_PARAMETERS = {"seq": 1, "after": 1, "size": 0, "to": 0, "from": 0}


def wanted_size(path_params: Mapping[str, Any], query: Mapping[str, Any]) -> int | None:
    """The tree size a read needs, from the positions it names; None when it names none."""
    wanted: int | None = None
    for params in (path_params, query):
        for name, extra in POSITION_PARAMETERS.items():
            value = params.get(name)
            try:
                n = int(value) + extra if value is not None else None
            except (TypeError, ValueError):
                continue
            if n is not None and (wanted is None or n > wanted):
                wanted = n
    return wanted


# After the replica could not be reached, reads go straight to the primary for this long
# (a circuit breaker): a replica that is down costs one connect timeout per BREAKER_SECONDS,
# not one per read.
BREAKER_SECONDS = float(os.environ.get("RURAL_LEDGER_READ_BREAKER_SECONDS") or 30.0)  # 0: off
_unreachable_until: weakref.WeakKeyDictionary[AsyncEngine, float] = weakref.WeakKeyDictionary()


def _trip(replica: AsyncEngine, error: BaseException) -> None:
    log.warning(
        "the read replica is unreachable (%s): reading from the primary for %.0f s",
        error.__class__.__name__,
        BREAKER_SECONDS,
    )
    _unreachable_until[replica] = monotonic() + BREAKER_SECONDS


async def replica_connection(replica: AsyncEngine, wanted: int | None) -> AsyncConnection | None:
    """A connection to the replica if it can serve a read needing tree size ``wanted``;
    None when it is behind that size or cannot be reached, or could not be within the last
    ``BREAKER_SECONDS`` (then the primary serves)."""
    if BREAKER_SECONDS > 0 and monotonic() < _unreachable_until.get(replica, 0.0):
        return None
    try:
        conn = await replica.connect()
    except Exception as e:
        if database_unreachable(e):
            _trip(replica, e)
            return None
        raise
    if wanted is None:
        return conn
    try:
        latest = await conn.run_sync(store.latest_checkpoint)
        await conn.rollback()  # the handler begins its own transaction (and isolation level)
    except Exception as e:
        with contextlib.suppress(Exception):
            await conn.close()
        if database_unreachable(e):
            _trip(replica, e)
            return None
        raise
    if (latest.size if latest else 0) >= wanted:
        return conn
    await conn.close()
    return None
