"""Moving a county's ledger to a cluster of its own: ledger B, sharing a database with A, is
backed up and restored into another database (another cluster, for the test) that already
holds ledger C. B verifies there with the root, size and state digest it has at the source; C
and A are untouched; a tampered backup, or B restored a second time, writes nothing; a backup
of the format's earlier shape (rows naming their ledger's number, or no number at all)
restores as well."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from api.audit.auditor import AuditOutcome
from api.cli.main import parser
from api.cli.verify import run_verify
from api.home import Home
from api.http.app import Settings, create_app
from api.service.database import asyncpg_url
from tests.conftest import FakeClock
from tests.integration.test_operations_backup import WITNESS, cli, cosign_latest, rewrite
from tests.registry_support import village
from tests.support import LedgerFixture, open_ledger

ORIGINS = {name: f"test.rural-ledger/county-{name.lower()}" for name in "ABC"}
WITNESS_ARGS = ["--witness", str(WITNESS.verifier())]


@dataclass
class Clusters:
    source: str  # database holding B (number 1) and A (number 2)
    target: str  # database holding C
    fx: dict[str, LedgerFixture]


async def fill(fx: LedgerFixture, people: int) -> None:
    # The same organisation ids in every ledger: a read or write that crossed ledgers would
    # meet another ledger's rows of the same key.
    v = await village(fx, "town", "village")
    for _ in range(people):
        await v.person()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def clusters(
    database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Clusters]:
    source, target = await database_factory(), await database_factory()
    async with AsyncExitStack() as stack:
        fx: dict[str, LedgerFixture] = {}
        for name, url, people in (("B", source, 3), ("A", source, 2), ("C", target, 2)):
            home = tmp_path_factory.mktemp(f"home-{name}")
            fx[name] = await stack.enter_async_context(open_ledger(url, home, FakeClock(), ORIGINS[name]))
            await fill(fx[name], people)
        yield Clusters(source, target, fx)


async def ledger_rows(url: str, origin: str) -> dict[str, tuple[int, str]]:
    """Each of ``origin``'s tables in ``url``'s database: its row count and a digest of its rows
    without the ledger's number (its ledger row's, without ``id``, under ``ledger_meta``)."""
    conn = await asyncpg.connect(url)
    try:
        number = await conn.fetchval("SELECT id FROM ledger_meta WHERE origin = $1", origin)
        if number is None:
            return {}
        tables = [
            r[0]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
                " AND column_name = 'ledger_id' ORDER BY table_name"
            )
        ]
        found: dict[str, tuple[int, str]] = {}
        for table, key, column in [
            ("ledger_meta", "id", "id"),
            *((t, "ledger_id", "ledger_id") for t in tables),
        ]:
            row = await conn.fetchrow(
                f"SELECT count(*), md5(coalesce(string_agg((to_jsonb(t) - '{key}')::text, ',' "
                f"ORDER BY (to_jsonb(t) - '{key}')::text), '')) FROM {table} t WHERE {column} = $1",
                number,
            )
            found[table] = (row[0], row[1])
        return found
    finally:
        await conn.close()


async def origins(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        present = await conn.fetchval("SELECT to_regclass('ledger_meta') IS NOT NULL")
        rows = await conn.fetch("SELECT origin, id FROM ledger_meta") if present else []
        return {r["origin"]: r["id"] for r in rows}
    finally:
        await conn.close()


async def served(url: str, home: Home) -> tuple[AuditOutcome, str, dict[str, Any]]:
    """``rural-ledger verify`` of the ledger ``home`` names, served from ``url``'s database; its
    checkpoint and health as served there."""
    app = create_app(Settings(home=home, database_url=asyncpg_url(url)))
    operator_key = home.operator_pub_file.read_text().strip()
    async with AsyncTestClient(app=app, timeout=60) as http:
        args = parser().parse_args(
            ["verify", "http://testserver", "--operator-key", operator_key, "--workers", "0", "--quiet"]
        )
        outcome = await run_verify(args, http=http)
        return outcome, (await http.get("/v1/checkpoint")).text, (await http.get("/healthz")).json()


def members(file: Path) -> dict[str, Any]:
    import tarfile

    with tarfile.open(file, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


async def test_a_ledger_moves_to_a_database_holding_another(
    clusters: Clusters, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = (clusters.fx[n] for n in "ABC")
    assert await origins(clusters.source) == {ORIGINS["B"]: 1, ORIGINS["A"]: 2}
    size = await cosign_latest(b)
    a_before = await ledger_rows(clusters.source, a.origin)
    b_before = await ledger_rows(clusters.source, b.origin)
    c_before = await ledger_rows(clusters.target, c.origin)
    b_source, b_note, _ = await served(clusters.source, b.home)
    assert b_source.status == "intact" and b_source.size == size

    file = tmp_path / "b.backup"
    assert await cli(monkeypatch, clusters.source, b.home, "backup", str(file)) == 0
    # Only B's rows, none naming its number in the source database.
    parts = members(file)
    assert json.loads(parts["backup.json"])["origin"] == b.origin
    assert json.loads(parts["bundle/manifest.json"])["origin"] == b.origin
    rows = [json.loads(line) for line in parts["rows.jsonl"].splitlines()]
    assert [r["row"]["origin"] for r in rows if r["table"] == "ledger_meta"] == [b.origin]
    assert not any(
        "ledger_id" in r["row"] or (r["table"] == "ledger_meta" and "id" in r["row"]) for r in rows
    )
    kept = {t: sum(1 for r in rows if r["table"] == t) for t in ("personal_data", "witness_cosignatures")}
    assert kept == {t: b_before[t][0] for t in kept} and kept["personal_data"] == 3

    assert await cli(monkeypatch, clusters.target, b.home, "restore", str(file), *WITNESS_ARGS) == 0
    assert await origins(clusters.target) == {c.origin: 1, b.origin: 2}  # the next free number
    b_after = await ledger_rows(clusters.target, b.origin)
    changed = {t for t in b_before if b_after[t] != b_before[t]}
    # Checkpoints take their last record's time; sessions and nonces are not kept.
    assert changed <= {"checkpoints", "console_sessions", "request_nonces"}, changed
    assert b_after["checkpoints"][0] == b_before["checkpoints"][0]
    moved, moved_note, health = await served(clusters.target, b.home)
    assert moved.status == "intact" and moved.server_digest == "match", moved.as_json()
    assert (moved.size, moved.state_digest) == (size, b_source.state_digest)
    assert moved_note == b_note  # the same size and root, signed by the same operator
    assert health["self_check"] == "passed" and health["size"] == size

    assert await ledger_rows(clusters.target, c.origin) == c_before
    assert await ledger_rows(clusters.source, a.origin) == a_before
    assert await ledger_rows(clusters.source, b.origin) == b_before
    served_c, _, _ = await served(clusters.target, c.home)
    assert served_c.status == "intact" and served_c.server_digest == "match"

    # B a second time, into the database that now holds it: refused, nothing written.
    target_before = {o: await ledger_rows(clusters.target, o) for o in (b.origin, c.origin)}
    assert await cli(monkeypatch, clusters.target, b.home, "restore", str(file), *WITNESS_ARGS) == 2
    assert {o: await ledger_rows(clusters.target, o) for o in target_before} == target_before
    assert await origins(clusters.target) == {c.origin: 1, b.origin: 2}


async def test_a_tampered_backup_writes_nothing_beside_another_ledger(
    clusters: Clusters, database_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = clusters.fx["B"]
    await cosign_latest(b)
    file = tmp_path / "b.backup"
    assert await cli(monkeypatch, clusters.source, b.home, "backup", str(file)) == 0
    target = await database_factory()
    async with open_ledger(target, tmp_path / "home-d", FakeClock(), "test.rural-ledger/county-d") as d:
        await fill(d, 1)
        before = await ledger_rows(target, d.origin)

        def renamed(name: str, data: bytes) -> bytes:  # a person's name, in the rows beside the log
            if name != "rows.jsonl":
                return data
            lines = [json.loads(line) for line in data.splitlines()]
            next(line for line in lines if line["table"] == "personal_data")["row"]["name"] = "王冒名"
            return b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines)

        def changed_record(name: str, data: bytes) -> bytes:  # a record of the log
            if name != "bundle/ledger.jsonl":
                return data
            lines = data.split(b"\n")
            at = next(
                i for i, line in enumerate(lines) if line.startswith(b'{"entry":') and b'"village"' in line
            )
            lines[at] = lines[at].replace(b'"village"', b'"villagf"', 1)
            return b"\n".join(lines)

        for change, code in ((renamed, 1), (changed_record, 1)):
            forged = tmp_path / f"{change.__name__}.backup"
            rewrite(file, forged, change)
            assert await cli(monkeypatch, target, b.home, "restore", str(forged), *WITNESS_ARGS) == code
            assert await origins(target) == {d.origin: 1}
            assert await ledger_rows(target, d.origin) == before


def older_shape(number: int | None, ledger_id: int | None) -> Any:
    """A backup's rows as the format's earlier writers gave them: the ledger row with its
    ``id`` (``number``), and every other row with a ``ledger_id`` (None: without one)."""

    def change(name: str, data: bytes) -> bytes:
        if name == "backup.json" and ledger_id is None:
            manifest = json.loads(data)
            manifest["schema_revision"] = "0014"  # before many ledgers
            return json.dumps(manifest).encode()
        if name != "rows.jsonl":
            return data
        lines = [json.loads(line) for line in data.splitlines()]
        for line in lines:
            if line["table"] == "ledger_meta":
                line["row"] = {"id": number, **line["row"]}
            elif ledger_id is not None:
                line["row"]["ledger_id"] = ledger_id
        return b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines)

    return change


async def test_backups_of_the_earlier_shape_restore(
    clusters: Clusters, database_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = clusters.fx["B"]
    size = await cosign_latest(b)
    file = tmp_path / "b.backup"
    assert await cli(monkeypatch, clusters.source, b.home, "backup", str(file)) == 0
    b_before = await ledger_rows(clusters.source, b.origin)

    # Before many ledgers (ledger row id 1, no ledger_id), and after (every row naming it).
    for number, ledger_id in ((1, None), (1, 1)):
        older = tmp_path / f"older-{ledger_id}.backup"
        rewrite(file, older, older_shape(number, ledger_id))
        target = await database_factory()
        assert await cli(monkeypatch, target, b.home, "restore", str(older), *WITNESS_ARGS) == 0
        restored = await ledger_rows(target, b.origin)
        assert (
            restored["records"] == b_before["records"]
            and restored["personal_data"] == b_before["personal_data"]
        )
        outcome, _, health = await served(target, b.home)
        assert outcome.status == "intact" and outcome.server_digest == "match" and health["size"] == size

    # Rows naming another ledger than the backup's own row: refused, nothing written.
    mixed = tmp_path / "mixed.backup"
    rewrite(file, mixed, older_shape(1, 7))
    target = await database_factory()
    assert await cli(monkeypatch, target, b.home, "restore", str(mixed), *WITNESS_ARGS) == 2
    assert await origins(target) == {}
