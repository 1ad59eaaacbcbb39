"""A ledger served by a real ``rural-ledger serve`` process on a free port of 127.0.0.1, for tests
that need what a user has: a browser, or a script run in its own process."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from api.home import Home

READY = "Application startup complete"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rural_ledger_command() -> list[str]:
    script = Path(sys.executable).parent / "rural-ledger"
    return [str(script)] if script.exists() else [sys.executable, "-m", "api.cli.main"]


@dataclass
class Server:
    base: str  # http://127.0.0.1:PORT
    output: list[str]  # what it printed so far, for a failing test's message

    def log(self) -> str:
        return "".join(self.output)


@asynccontextmanager
async def serve(database_url: str, home: Home, *serve_args: str) -> AsyncIterator[Server]:
    """``rural-ledger serve`` on the ledger in ``database_url`` and ``home`` (with ``serve_args``
    after the command, e.g. more ``--home``), once it says it has started; stopped at the end.
    What it printed is in the error when it does not start."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "RURAL_LEDGER_HOME": str(home.root)}
    proc = await asyncio.create_subprocess_exec(
        *rural_ledger_command(),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *serve_args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output: list[str] = []
    started = asyncio.Event()

    async def read_output() -> None:  # to the end, so that the pipe never fills
        assert proc.stdout is not None
        async for raw in proc.stdout:
            output.append(raw.decode(errors="replace"))
            if READY in output[-1]:
                started.set()

    reader = asyncio.create_task(read_output())
    waiting = asyncio.create_task(started.wait())
    try:
        await asyncio.wait({reader, waiting}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if not started.is_set():
            raise RuntimeError(f"rural-ledger serve did not start:\n{''.join(output)}")
        yield Server(f"http://127.0.0.1:{port}", output)
    finally:
        waiting.cancel()
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        with suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(reader, 10)
