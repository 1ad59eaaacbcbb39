"""A Patroni cluster for tests, started here with no Docker: one etcd and three PostgreSQL 15
instances managed by Patroni, on free loopback ports in a temporary folder, with synchronous
replication (``synchronous_mode_strict``: a commit returns only once a standby has it) and
``primary_start_timeout: 0`` (a crashed primary fails over at once rather than restarting).

PostgreSQL will not run as root: as root, Patroni and its postgres run as the ``postgres``
user, and the folder is given to it. Every wait polls against a deadline; ``stop`` ends every
process started here (etcd, each Patroni, each postmaster), whatever state they are in."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.reliability.harness import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SCOPE = "rural-ledger-ha"
NODES = 3


def missing_tools() -> list[str]:
    """What the cluster needs and this machine lacks."""
    missing = [t for t in ("patroni", "etcd") if shutil.which(t) is None]
    if not (PG_BIN / "postgres").exists():
        missing.append(str(PG_BIN / "postgres"))
    return missing


def dcs_settings() -> dict[str, Any]:
    """The cluster-wide settings Patroni keeps in etcd (docs/ha.md shows the same)."""
    return {
        "ttl": 20,
        "loop_wait": 1,
        "retry_timeout": 5,
        "maximum_lag_on_failover": 1048576,
        "synchronous_mode": True,
        "synchronous_mode_strict": True,
        "synchronous_node_count": 1,
        "primary_start_timeout": 0,
        "postgresql": {
            "use_pg_rewind": True,
            "parameters": {"wal_log_hints": "on", "max_connections": 100, "max_wal_senders": 10},
        },
    }


@dataclass
class Node:
    name: str
    pg_port: int
    api_port: int
    data_dir: Path
    config: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        return None


@dataclass
class Cluster:
    root: Path
    etcd_port: int = field(default_factory=free_port)
    etcd_peer_port: int = field(default_factory=free_port)
    nodes: list[Node] = field(default_factory=list)
    etcd: subprocess.Popen[bytes] | None = None
    started_postmasters: set[int] = field(default_factory=set)

    @property
    def database_url(self) -> str:
        """The libpq multi-host URL that follows the leader."""
        hosts = ",".join(f"127.0.0.1:{n.pg_port}" for n in self.nodes)
        return f"postgresql://postgres@{hosts}/ledger?target_session_attrs=read-write"

    def node_url(self, node: Node, database: str = "ledger") -> str:
        return f"postgresql://postgres@127.0.0.1:{node.pg_port}/{database}"

    # -- starting --------------------------------------------------------------------------

    def start(self, within: float = 90.0) -> Node:
        """Start etcd and the three nodes; return the leader once it has a sync standby."""
        self._start_etcd()
        for i in range(NODES):
            node = self._node(i)
            self.nodes.append(node)
            node.proc = self._spawn(["patroni", str(node.config)], self.root / f"{node.name}.log")
            if i == 0:  # the first one bootstraps: let it be the leader before the others join
                self.wait_leader(within)
        return self.wait_healthy(within)

    def _start_etcd(self) -> None:
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        client = f"http://127.0.0.1:{self.etcd_port}"
        self.etcd = self._spawn(
            [
                "etcd",
                "--name=e0",
                f"--data-dir={self.root / 'etcd'}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=e0={peer}",
            ],
            self.root / "etcd.log",
            as_postgres=False,
        )
        self._until(30, "etcd answers", lambda: httpx.get(f"{client}/health", timeout=1).json()["health"])

    def _node(self, i: int) -> Node:
        node = Node(
            f"pg{i}",
            free_port(),
            free_port(),
            self.root / f"pg{i}",
            self.root / f"pg{i}.yaml",
        )
        config = {
            "scope": SCOPE,
            "name": node.name,
            "log": {"level": "INFO", "dir": str(self.root / f"{node.name}-log")},
            "restapi": {
                "listen": f"127.0.0.1:{node.api_port}",
                "connect_address": f"127.0.0.1:{node.api_port}",
            },
            "etcd3": {"hosts": f"127.0.0.1:{self.etcd_port}"},
            "bootstrap": {
                "dcs": dcs_settings(),
                "initdb": ["data-checksums", {"encoding": "UTF8"}, {"locale": "C.UTF-8"}],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{node.pg_port}",
                "connect_address": f"127.0.0.1:{node.pg_port}",
                "data_dir": str(node.data_dir),
                "bin_dir": str(PG_BIN),
                "pgpass": str(self.root / f"{node.name}.pgpass"),
                "authentication": {
                    "superuser": {"username": "postgres", "password": "postgres"},
                    "replication": {"username": "replicator", "password": "replicator"},
                    "rewind": {"username": "postgres", "password": "postgres"},
                },
                "parameters": {"unix_socket_directories": str(self.root), "shared_buffers": "32MB"},
                "pg_hba": [
                    "local all all trust",
                    "host all all 127.0.0.1/32 trust",
                    "host replication all 127.0.0.1/32 trust",
                ],
            },
            "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False},
        }
        (self.root / f"{node.name}-log").mkdir()
        node.config.write_text(json.dumps(config, indent=2))  # JSON is YAML
        self._give_to_postgres(self.root / f"{node.name}-log")
        self._give_to_postgres(node.config)
        return node

    def _spawn(self, argv: list[str], log: Path, as_postgres: bool = True) -> subprocess.Popen[bytes]:
        user = _postgres_user() if as_postgres else None
        with log.open("ab") as out:
            proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.root,
                user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
                env={**os.environ, "HOME": str(self.root)} if user else None,
                start_new_session=True,  # its own process group, ended as one in ``stop``
            )
        self._give_to_postgres(log)
        return proc

    def _give_to_postgres(self, path: Path) -> None:
        user = _postgres_user()
        if user is not None:
            os.chown(path, user.pw_uid, user.pw_gid)

    # -- state -----------------------------------------------------------------------------

    def members(self) -> list[dict[str, Any]]:
        """The cluster as Patroni's REST API reports it (from any node that answers)."""
        for node in self.nodes:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                members: list[dict[str, Any]] = httpx.get(f"{node.api}/cluster", timeout=1).json()["members"]
                return members
        return []

    def leader(self) -> Node | None:
        for m in self.members():
            if m.get("role") == "leader" and m.get("state") == "running":
                return self.by_name(m["name"])
        return None

    def by_name(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def wait_leader(self, within: float, other_than: Node | None = None) -> Node:
        def found() -> Node | None:
            leader = self.leader()
            return leader if leader is not None and leader is not other_than else None

        node: Node = self._until(within, "a leader", found)
        return node

    def wait_healthy(self, within: float) -> Node:
        """A leader, a sync standby and a streaming replica, all running."""

        def healthy() -> Node | None:
            members = self.members()
            roles = sorted(str(m.get("role")) for m in members)
            running = all(m.get("state") in ("running", "streaming") for m in members)
            return self.leader() if running and roles == ["leader", "replica", "sync_standby"] else None

        node: Node = self._until(within, "a leader with a sync standby and a replica", healthy)
        for n in self.nodes:
            pid = n.postmaster_pid()
            if pid:
                self.started_postmasters.add(pid)
        return node

    def _until(self, within: float, what: str, probe: Any) -> Any:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                value = probe()
                if value:
                    return value
            time.sleep(0.2)
        raise TimeoutError(f"no {what} within {within} s; cluster: {self.members()}\n{self.log_tails()}")

    def log_tails(self, n: int = 1500) -> str:
        out = []
        for log in sorted(self.root.glob("*.log")) + sorted(self.root.glob("*-log/*")):
            with contextlib.suppress(OSError):
                out.append(f"--- {log.name}\n{log.read_bytes()[-n:].decode(errors='replace')}")
        return "\n".join(out)

    # -- failure and stopping ----------------------------------------------------------------

    def kill_postmaster(self, node: Node) -> int:
        """SIGKILL the node's postmaster, as a crash would."""
        pid = node.postmaster_pid()
        assert pid is not None, f"{node.name} has no postmaster"
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        """End everything started here: Patroni (which stops its postgres), then whatever
        postmaster is left, then etcd; SIGKILL what does not stop in time."""
        for node in self.nodes:
            _end(node.proc, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for node in self.nodes:
            _wait(node.proc, deadline)
        for node in self.nodes:
            _end(node.proc, signal.SIGKILL)
            pid = node.postmaster_pid()
            if pid is not None:
                self.started_postmasters.add(pid)
        for pid in self.started_postmasters:
            if _is_postgres(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        _end(self.etcd, signal.SIGTERM)
        _wait(self.etcd, time.monotonic() + 10)
        _end(self.etcd, signal.SIGKILL)


@contextlib.contextmanager
def patroni_cluster() -> Any:
    root = Path(tempfile.mkdtemp(prefix="rl-ha-"))
    user = _postgres_user()
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    cluster = Cluster(root)
    try:
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _postgres_user() -> pwd.struct_passwd | None:
    """The user PostgreSQL runs as: ``postgres`` when this runs as root, else this user."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam("postgres")


def _end(proc: subprocess.Popen[bytes] | None, sig: signal.Signals) -> None:
    if proc is not None and proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)


def _wait(proc: subprocess.Popen[bytes] | None, deadline: float) -> None:
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))


def _is_postgres(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/comm").read_text().strip() in ("postgres", "postmaster")
    return False
