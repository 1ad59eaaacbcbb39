"""Finding 9: after kill -9 of ``serve`` nothing it started keeps running: neither the verifier
workers, nor multiprocessing's resource tracker, nor (with ``--workers 2``) uvicorn's server
processes. Uses a scratch database, so the only postgres processes are not ``serve``'s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.service.service import VERIFIER_PROCESSES
from tests.reliability.harness import (
    Serve,
    command_of,
    descendants,
    scratch_database,
    server_url,
    wait_gone,
)

GONE_WITHIN = 5.0


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("orphans")
    with scratch_database(server_url(tmp_path_factory.mktemp("pg"))) as url:
        serve = Serve(home, url)
        serve.init()
        yield url, home


@pytest.mark.parametrize("workers", [1, 2])
def test_kill_9_leaves_no_process_behind(database: tuple[str, Path], workers: int) -> None:
    url, home = database
    serve = Serve(home, url, workers=workers)
    serve.start()
    try:
        assert serve.proc is not None
        started = descendants(serve.proc.pid)
        commands = [command_of(p) for p in started]
        # Each server process runs its verifier workers, plus one resource tracker per tree.
        assert sum("spawn_main" in c for c in commands) >= VERIFIER_PROCESSES * workers, commands
        assert any("resource_tracker" in c for c in commands), commands
        serve.kill()
        left, waited = wait_gone(started, GONE_WITHIN)
        print(f"workers={workers}: {len(started)} descendants, all gone in {waited:.2f} s")
        assert not left, [command_of(p) for p in left]
    finally:
        serve.kill()
