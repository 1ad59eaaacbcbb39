"""The read replica's engine and its breaker (``api.service.replica``): a replica that does
not answer holds a read for a connect timeout at most, and after a failure the reads go
straight to the primary for ``BREAKER_SECONDS``."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from api.service import database, replica


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers (a replica hung or behind a firewall
    that drops): without a timeout, asyncpg waits its minute."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


async def test_the_read_engine_always_has_a_connect_timeout(
    silent_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "HOST_TIMEOUT_SECONDS", 0.5)
    engine = database.make_read_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{silent_server}/db")
    try:
        conn = await asyncio.wait_for(replica.replica_connection(engine, None), 5)
        assert conn is None  # the primary serves
    finally:
        await engine.dispose()


class DownReplica:
    def __init__(self) -> None:
        self.tries = 0

    async def connect(self) -> Any:
        self.tries += 1
        raise ConnectionRefusedError("nothing listens there")


async def test_after_a_failure_reads_go_to_the_primary_for_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(replica, "monotonic", lambda: now[0])
    down = DownReplica()
    assert await replica.replica_connection(down, 5) is None  # type: ignore[arg-type]
    assert down.tries == 1
    for _ in range(10):
        now[0] += 2.5
        assert await replica.replica_connection(down, None) is None  # type: ignore[arg-type]
    assert down.tries == 1  # not tried again within BREAKER_SECONDS
    now[0] += replica.BREAKER_SECONDS
    assert await replica.replica_connection(down, None) is None  # type: ignore[arg-type]
    assert down.tries == 2  # tried again after it, and the breaker opened again
    now[0] += 1
    assert await replica.replica_connection(down, None) is None  # type: ignore[arg-type]
    assert down.tries == 2
