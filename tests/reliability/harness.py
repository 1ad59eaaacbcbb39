"""Runs the real ``rural-ledger serve`` as a child process for reliability checks: a fresh home,
a scratch database on ``DATABASE_URL``'s server (or an embedded cluster in a temporary folder),
a free loopback port; readiness by polling ``/healthz`` against a deadline; kill -9 and restart.

Every wait here is bounded; a server that does not become ready raises with its log's tail."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from ledger.checkpoint import NoteVerifier
from ledger.signing import KeyFile

BIN = Path(sys.executable).with_name("rural-ledger")
ORIGIN = "reliability.rural-ledger/weihai"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_url(scratch: Path) -> str:
    """A PostgreSQL server's maintenance database URL: ``DATABASE_URL``'s, or an embedded cluster
    in ``scratch`` (held by this process, so that ``serve`` starts no postgres of its own)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        from api.service.database import embedded_url

        url = embedded_url(scratch)
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _dsn(url: str) -> str:
    return make_url(url).render_as_string(hide_password=False)


@contextlib.contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """A fresh database on ``server``, dropped afterwards."""
    name = f"rl_rel_{uuid.uuid4().hex[:12]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(_dsn(server), timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Serve:
    """One ledger (home + database) and the ``serve`` process currently running on it."""

    home: Path
    database_url: str
    workers: int = 1
    preexec: Callable[[], None] | None = None
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.home / "serve.log"

    def env(self) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": self.database_url, "RURAL_LEDGER_HOME": str(self.home)}

    def init(self) -> None:
        subprocess.run(
            [str(BIN), "--home", str(self.home), "init", "--origin", ORIGIN],
            env=self.env(),
            check=True,
            capture_output=True,
            timeout=120,
        )

    @property
    def root_key(self) -> KeyFile:
        return KeyFile.read(self.home / "keys" / "county.key")

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier.from_string((self.home / "operator.pub").read_text().strip())

    def start(self, ready_within: float = 60.0) -> None:
        assert self.proc is None or self.proc.poll() is not None, "serve is already running"
        self.starts += 1
        log = self.log_file.open("ab")
        self.proc = subprocess.Popen(
            [
                str(BIN),
                "--home",
                str(self.home),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=self.preexec,
        )
        log.close()
        self.wait_ready(ready_within)

    def wait_ready(self, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"serve not ready within {within} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 4000) -> str:
        with contextlib.suppress(OSError):
            return self.log_file.read_bytes()[-n:].decode(errors="replace")
        return ""

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, within: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.kill()


def children_of(pid: int) -> dict[int, list[int]]:
    """ppid -> child pids, read from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
                tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, postgres excluded (a database server is not the service's)."""
    tree, found, todo = children_of(pid), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if not command_of(child).startswith("postgres"):
                found.append(child)
                todo.append(child)
    return found


def command_of(pid: int) -> str:
    with contextlib.suppress(OSError):
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def alive(pid: int) -> bool:
    """Running and not a zombie (a zombie has ended; only its exit status is left)."""
    with contextlib.suppress(OSError):
        stat = (Path("/proc") / str(pid) / "stat").read_text()
        return stat[stat.rindex(")") + 2] != "Z"
    return False


def wait_gone(pids: list[int], within: float) -> tuple[list[int], float]:
    """Poll until none of ``pids`` runs, for at most ``within`` s: (still running, seconds)."""
    start = time.monotonic()
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() - start < within:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    return left, time.monotonic() - start
