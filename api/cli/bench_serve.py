"""The servers a benchmark drives over loopback, each a child process of its own: the real
service (``rural-ledger serve``, one process) and the bare reference app
(``api.cli.bench_reference``) under the same uvicorn, started the same way and stopped at the end.

Request rate limits are turned off for the service (``RURAL_LEDGER_RATE_*=0``): one loopback
client sending thousands of requests a second is the benchmark, not an abuse."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import tempfile
from collections.abc import AsyncIterator

from api.home import Home

READY = "Application startup complete"
START_TIMEOUT = 120.0
NO_RATE_LIMITS = {"RURAL_LEDGER_RATE_PER_ADDRESS": "0", "RURAL_LEDGER_RATE_PER_KEY": "0"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_command(home: Home, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "api.cli.main",
        "--home",
        str(home.root),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def reference_command(port: int) -> list[str]:
    """uvicorn with the reference app, on h11 as ``serve`` runs it, without an access log."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "api.cli.bench_reference:create_reference_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--http",
        "h11",
        "--no-access-log",
        "--log-level",
        "info",
    ]


@contextlib.asynccontextmanager
async def service(home: Home, database_url: str) -> AsyncIterator[str]:
    """``rural-ledger serve`` on the ledger of ``home`` in ``database_url``, as it runs by default
    (its request log on, at info); yields its base URL."""
    port = free_port()
    env = {"DATABASE_URL": database_url, "RURAL_LEDGER_HOME": str(home.root), **NO_RATE_LIMITS}
    async with child(service_command(home, port), env, port) as base:
        yield base


@contextlib.asynccontextmanager
async def reference(settings: dict[str, str]) -> AsyncIterator[str]:
    """The bare reference app, given ``settings`` (``api.cli.bench_reference``'s variables)."""
    port = free_port()
    async with child(reference_command(port), settings, port) as base:
        yield base


@contextlib.asynccontextmanager
async def child(command: list[str], env: dict[str, str], port: int) -> AsyncIterator[str]:
    """Run ``command`` until it answers HTTP on ``port``. What it prints goes to a file, not a
    pipe this process would have to read while it measures; its end is in the error when the
    command does not start."""
    inherited = {k: v for k, v in os.environ.items() if k != "RURAL_LEDGER_HOMES"}
    with tempfile.TemporaryFile() as log:
        proc = await asyncio.create_subprocess_exec(
            *command,
            env={**inherited, **env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            if not await listening(port, proc):
                log.seek(0)
                printed = log.read().decode(errors="replace")[-4000:]
                raise RuntimeError(f"{command[2]} did not start on port {port}:\n{printed}")
            yield f"http://127.0.0.1:{port}"
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


async def listening(port: int, proc: asyncio.subprocess.Process) -> bool:
    """Whether ``GET /healthz`` gets any answer from ``port`` before the process exits or
    ``START_TIMEOUT`` passes (polled: a child's start is no event this process can await)."""
    import httpx

    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        while loop.time() < deadline and proc.returncode is None:
            with contextlib.suppress(httpx.TransportError):
                await client.get("/healthz")
                return True
            await asyncio.sleep(0.1)
    return False
