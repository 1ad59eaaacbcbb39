"""A multi-host ``DATABASE_URL`` (docs/ha.md) against the real server: the first server listed
silent (a machine gone with its network: the connection opens, no answer ever comes), or
refusing, and the real one after it. Each server is given the URL's ``connect_timeout`` of its
own, as libpq does; asyncpg's own timeout, which covers all of them at once, would be used up
on the silent one (shown beside). Needs the server on TCP (``DATABASE_URL``'s)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.service.database import asyncpg_url, make_engine
from tests.reliability.harness import free_port


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections (the kernel does, from the backlog) and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield int(s.getsockname()[1])


async def tcp_server(database_factory: Any) -> tuple[str, int, str]:
    url = make_url(await database_factory())
    if not url.host or url.host.startswith("/") or not url.port:
        pytest.skip("needs the PostgreSQL server on TCP (DATABASE_URL)")
    return url.host, url.port, str(url.database)


def multi_host(servers: list[str], database: str, query: str) -> str:
    return f"postgresql://postgres@{','.join(servers)}/{database}?{query}"


async def port_reached(url: str) -> tuple[int, float]:
    engine = make_engine(asyncpg_url(url), service_role=False, pool_size=1)
    began = time.monotonic()
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(text("SELECT inet_server_port()"))), time.monotonic() - began
    finally:
        await engine.dispose()


async def test_a_silent_first_server_costs_its_own_timeout_only(
    database_factory: Any, silent_server: int
) -> None:
    host, port, database = await tcp_server(database_factory)
    url = multi_host(
        [f"127.0.0.1:{silent_server}", f"{host}:{port}"],
        database,
        "target_session_attrs=read-write&connect_timeout=1",
    )
    reached, took = await port_reached(url)
    assert reached == port and 0.9 < took < 5, took
    with pytest.raises(TimeoutError):  # asyncpg alone: one budget for all, spent on the first
        await asyncpg.connect(url.replace("&connect_timeout=1", ""), timeout=1)


async def test_a_refusing_first_server_is_passed_at_once(database_factory: Any) -> None:
    host, port, database = await tcp_server(database_factory)
    url = multi_host(
        [f"127.0.0.1:{free_port()}", f"{host}:{port}"], database, "target_session_attrs=read-write"
    )
    reached, took = await port_reached(url)
    assert reached == port and took < 5


async def test_prefer_standby_takes_the_primary_when_there_is_no_standby(database_factory: Any) -> None:
    host, port, database = await tcp_server(database_factory)
    url = multi_host(
        [f"127.0.0.1:{free_port()}", f"{host}:{port}"], database, "target_session_attrs=prefer-standby"
    )
    assert (await port_reached(url))[0] == port


async def test_no_server_answering_is_the_database_unreachable(database_factory: Any) -> None:
    from ledger.errors import database_unreachable

    _, _, database = await tcp_server(database_factory)
    url = multi_host([f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"], database, "connect_timeout=1")
    with pytest.raises(Exception) as raised:
        await asyncio.wait_for(port_reached(url), 10)
    assert database_unreachable(raised.value)
