"""Host names of the ledgers one process serves (``api.http.hosts``), and the dispatcher's
lifespan fanned out to every ledger's app (``api.http.ledgers``), on apps whose lifespans
record what they did."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from api.home import Home
from api.http.hosts import (
    ServedLedger,
    homes_from_env,
    host_table,
    listed_hosts,
    request_host,
    served_ledgers,
)
from api.http.ledgers import LedgerApp, LedgerDispatcher
from ledger.checkpoint import generate_signer
from ledger.errors import MalformedError


def home_of(folder: Path, origin: str, hosts: str | None = None) -> Home:
    home = Home(folder)
    home.write_operator_key(*generate_signer(origin))
    if hosts is not None:
        (folder / "hosts").write_text(hosts)
    return home


@pytest.mark.parametrize(
    ("header", "host"),
    [
        (b"wendeng.ledger.test", "wendeng.ledger.test"),
        (b"WenDeng.Ledger.Test:8443", "wendeng.ledger.test"),
        (b"wendeng.ledger.test.", "wendeng.ledger.test"),
        (b"10.0.0.7:8000", "10.0.0.7"),
        (b"[::1]:8000", "[::1]"),
        (b"[::1]", "[::1]"),
        (b"", None),
        (None, None),
    ],
)
def test_request_host_strips_port_case_and_trailing_dot(header: bytes | None, host: str | None) -> None:
    assert request_host(header) == host


def test_a_ledgers_host_is_its_origins_first_part(tmp_path: Path) -> None:
    ledger = ServedLedger.of(home_of(tmp_path, "Wendeng.Ledger.Test/log/v1"))
    assert ledger.hosts == ("wendeng.ledger.test",)


def test_a_hosts_file_replaces_the_default(tmp_path: Path) -> None:
    home = home_of(
        tmp_path, "ledger.test/wendeng", "# the county's names\nWenDeng.gov.test\n\nledger-wd.test  # alias\n"
    )
    assert ServedLedger.of(home).hosts == ("wendeng.gov.test", "ledger-wd.test")


@pytest.mark.parametrize("line", ["wendeng.test:8000", "wendeng.test/log", "two names", "-dash.test"])
def test_a_hosts_file_line_that_is_not_a_host_is_refused(tmp_path: Path, line: str) -> None:
    (tmp_path / "hosts").write_text(f"ok.test\n{line}\n")
    with pytest.raises(MalformedError, match=r"hosts:2: a host name a line"):
        listed_hosts(tmp_path / "hosts")


def test_an_empty_hosts_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MalformedError, match="lists no host name"):
        ServedLedger.of(home_of(tmp_path, "wendeng.test/log", "# nothing yet\n"))


def test_a_home_without_a_ledger_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MalformedError, match="no ledger in"):
        ServedLedger.of(Home(tmp_path))


def test_two_ledgers_with_one_host_are_refused(tmp_path: Path) -> None:
    a = home_of(tmp_path / "a", "ledger.test/wendeng")
    b = home_of(tmp_path / "b", "ledger.test/rongcheng")
    with pytest.raises(MalformedError, match=r"the host 'ledger.test' names two ledgers"):
        served_ledgers([a, b])
    (tmp_path / "b" / "hosts").write_text("rongcheng.ledger.test\n")
    table = host_table(served_ledgers([a, b]))
    assert {h: ledger.origin for h, ledger in table.items()} == {
        "ledger.test": "ledger.test/wendeng",
        "rongcheng.ledger.test": "ledger.test/rongcheng",
    }


def test_two_homes_of_one_ledger_are_refused(tmp_path: Path) -> None:
    a = home_of(tmp_path / "a", "wendeng.test/log")
    copy = Home(tmp_path / "copy")
    copy.root.mkdir()
    copy.operator_pub_file.write_text(a.operator_pub_file.read_text())
    (copy.root / "hosts").write_text("other.test\n")
    with pytest.raises(MalformedError, match=r"homes of the same ledger 'wendeng\.test/log'"):
        served_ledgers([a, copy])


def test_homes_come_from_rural_ledger_homes_else_home() -> None:
    env = {"RURAL_LEDGER_HOMES": f"/srv/a{os.pathsep}{os.pathsep}/srv/b", "RURAL_LEDGER_HOME": "/srv/c"}
    assert [h.root for h in homes_from_env(env)] == [Path("/srv/a"), Path("/srv/b")]
    assert [h.root for h in homes_from_env({"RURAL_LEDGER_HOME": "/srv/c"})] == [Path("/srv/c")]


# The lifespan fanned out: apps whose lifespans record their start and stop, or fail.


def recording_app(name: str, done: list[str], fail_start: bool = False, fail_stop: bool = False) -> Litestar:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        if fail_start:
            raise RuntimeError(f"{name} cannot start")
        done.append(f"start {name}")
        yield
        done.append(f"stop {name}")
        if fail_stop:
            raise RuntimeError(f"{name} cannot stop")

    return Litestar(route_handlers=[], lifespan=[lifespan])


def dispatcher(tmp_path: Path, apps: dict[str, Litestar]) -> LedgerDispatcher:
    return LedgerDispatcher(
        [
            LedgerApp(ServedLedger(Home(tmp_path / n), f"{n}.test/log", (f"{n}.test",)), app)
            for n, app in apps.items()
        ]
    )


async def run_lifespan(
    app: LedgerDispatcher, *, shut_down: bool
) -> tuple[list[dict[str, Any]], BaseException | None]:
    """The server's side of the lifespan: startup, then (when it started) shutdown."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []
    started = asyncio.Event()

    async def send(message: Any) -> None:
        sent.append(dict(message))
        started.set()

    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))
    await started.wait()
    if shut_down and sent[-1]["type"] == "lifespan.startup.complete":
        await inbox.put({"type": "lifespan.shutdown"})
    try:
        await task
    except BaseException as e:
        return sent, e
    return sent, None


async def test_every_ledger_starts_then_stops(tmp_path: Path) -> None:
    done: list[str] = []
    app = dispatcher(tmp_path, {n: recording_app(n, done) for n in ("a", "b", "c")})
    sent, error = await run_lifespan(app, shut_down=True)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert error is None
    assert done == ["start a", "start b", "start c", "stop c", "stop b", "stop a"]


async def test_one_failing_to_start_stops_those_started(tmp_path: Path) -> None:
    done: list[str] = []
    apps = {"a": recording_app("a", done), "b": recording_app("b", done), "c": recording_app("c", done, True)}
    apps["d"] = recording_app("d", done)
    sent, error = await run_lifespan(dispatcher(tmp_path, apps), shut_down=True)
    assert [m["type"] for m in sent] == ["lifespan.startup.failed"]
    assert "'c.test/log'" in sent[0]["message"] and "c cannot start" in sent[0]["message"]
    assert error is not None  # raised after the report, as Litestar's own lifespan does
    assert done == ["start a", "start b", "stop b", "stop a"]  # d never started


async def test_shutdown_goes_past_one_that_fails(tmp_path: Path) -> None:
    done: list[str] = []
    apps = {
        "a": recording_app("a", done),
        "b": recording_app("b", done, fail_stop=True),
        "c": recording_app("c", done),
    }
    sent, error = await run_lifespan(dispatcher(tmp_path, apps), shut_down=True)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.failed"]
    assert "b cannot stop" in sent[1]["message"]
    assert error is None
    assert done == ["start a", "start b", "start c", "stop c", "stop b", "stop a"]


def test_serve_takes_every_home_given_else_the_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    from api.cli.main import parser, serve_homes

    args = parser().parse_args(["--home", "a", "serve", "--home", "b", "--home", "a"])
    assert [h.root for h in serve_homes(args)] == [Path("a").absolute(), Path("b").absolute()]
    monkeypatch.setenv("RURAL_LEDGER_HOMES", f"/srv/a{os.pathsep}/srv/b")
    assert [h.root for h in serve_homes(parser().parse_args(["serve"]))] == [Path("/srv/a"), Path("/srv/b")]
    monkeypatch.delenv("RURAL_LEDGER_HOMES")
    monkeypatch.setenv("RURAL_LEDGER_HOME", "/srv/c")
    assert [h.root for h in serve_homes(parser().parse_args(["serve"]))] == [Path("/srv/c")]


def test_a_homes_witnesses_file_replaces_the_environments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.http.ledgers import ledger_settings
    from ledger.witness import generate_cosigner

    shared, own = (generate_cosigner(n)[1] for n in ("province.test", "neighbour.test"))
    monkeypatch.setenv("RURAL_LEDGER_WITNESSES", f"https://province.test/w {shared}")
    with_file = home_of(tmp_path / "a", "a.test/log")
    (with_file.root / "witnesses").write_text(f"# the county's own\nhttps://neighbour.test/w {own}\n")
    without = home_of(tmp_path / "b", "b.test/log")
    urls = [[w.url for w in ledger_settings(h).witnesses.witnesses] for h in (with_file, without)]
    assert urls == [["https://neighbour.test/w"], ["https://province.test/w"]]
