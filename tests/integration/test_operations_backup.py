"""Backup and restore: a backup restored into an empty database verifies and serves; a
tampered backup, or one older than the checkpoint known to be right, is refused and the
target left empty."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from api.cli.main import main
from api.home import Home
from api.http.app import Settings, create_app
from api.service.database import asyncpg_url
from ledger.checkpoint import parse_note
from ledger.witness import CosignerSigner, generate_cosigner
from tests.registry_support import Village, village
from tests.support import LedgerFixture

WITNESS = CosignerSigner.from_string(generate_cosigner("w1.example/witness")[0])


@pytest.fixture(scope="module")
async def v(ledger: LedgerFixture) -> Village:
    v = await village(ledger, "bak-town", "bak-village")
    for _ in range(3):
        await v.person()
    return v


async def cosign_latest(fx: LedgerFixture) -> int:
    note = (await fx.client.http.get("/v1/checkpoint")).text
    size = int(parse_note(note).body.splitlines()[1])
    cosignature = WITNESS.cosign(parse_note(note).body, int(time.time()))
    r = await fx.client.http.post(
        "/v1/witness/cosignatures",
        json={"size": size, "witness_key": str(WITNESS.verifier()), "cosignature": cosignature.line()},
    )
    assert r.status_code == 201, r.text
    return size


async def cli(monkeypatch: pytest.MonkeyPatch, url: str, home: Home, *args: str) -> int:
    monkeypatch.setenv("DATABASE_URL", url)
    return await asyncio.to_thread(main, ["--home", str(home.root), *args])


async def tables(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        names = [
            r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return {n: await conn.fetchval(f'SELECT count(*) FROM "{n}"') for n in names}
    finally:
        await conn.close()


async def digest(url: str, home: Home) -> Any:
    app = create_app(Settings(home=home, database_url=asyncpg_url(url)))
    async with AsyncTestClient(app=app, timeout=60) as http:
        return (await http.get("/v1/state-digest")).json(), (await http.get("/healthz")).json()


async def test_backup_restore_round_trip(
    v: Village, database_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fx = v.fx
    size = await cosign_latest(fx)
    file = tmp_path / "ledger.backup"
    assert await cli(monkeypatch, fx.url, fx.home, "backup", str(file)) == 0
    assert file.stat().st_mode & 0o077 == 0  # it holds personal data
    assert await cli(monkeypatch, fx.url, fx.home, "backup", str(file)) == 2  # never overwritten

    target = await database_factory()
    assert await cli(monkeypatch, target, fx.home, "restore", str(file)) == 2  # no known checkpoint
    assert await tables(target) == {}
    witness = ["--witness", str(WITNESS.verifier())]
    # A witness named but none required, and no checkpoint: anchored to nothing, refused.
    unanchored = [*witness, "--min-witnesses", "0"]
    assert await cli(monkeypatch, target, fx.home, "restore", str(file), *unanchored) == 2
    assert await tables(target) == {}
    assert await cli(monkeypatch, target, fx.home, "restore", str(file), *witness) == 0

    source, restored = await tables(fx.url), await tables(target)
    for table in ("records", "merkle_nodes", "checkpoints", "personal_data", "witness_cosignatures"):
        assert restored[table] == source[table] > 0, table
    assert restored["projection_history"] == source["projection_history"]
    assert restored["console_sessions"] == 0
    theirs, health = await digest(target, fx.home)
    ours = (await fx.client.http.get("/v1/state-digest")).json()
    assert theirs == ours and health["size"] == size and health["self_check"] == "passed"
    # Into a database that holds a ledger: refused, nothing changed.
    assert await cli(monkeypatch, target, fx.home, "restore", str(file), *witness) == 2
    assert await tables(target) == restored


def rewrite(file: Path, out: Path, change: Any) -> None:
    """A copy of the backup with ``change(name, bytes) -> bytes`` applied to its members, and
    its backup.json's digests made to match (a careful forger)."""
    import hashlib

    with tarfile.open(file, "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    members = {name: change(name, data) for name, data in members.items()}
    manifest = json.loads(members["backup.json"])
    for name in manifest["files"]:
        manifest["files"][name] = hashlib.sha256(members[name]).hexdigest()
    members["backup.json"] = json.dumps(manifest).encode()
    with tarfile.open(out, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


async def test_a_tampered_backup_is_refused_and_the_target_left_empty(
    v: Village, database_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fx = v.fx
    await cosign_latest(fx)
    file = tmp_path / "ledger.backup"
    assert await cli(monkeypatch, fx.url, fx.home, "backup", str(file)) == 0
    witness = ["--witness", str(WITNESS.verifier())]

    def changed_record(name: str, data: bytes) -> bytes:
        if name != "bundle/ledger.jsonl":
            return data
        lines = data.split(b"\n")
        at = next(
            i for i, line in enumerate(lines) if line.startswith(b'{"entry":') and b"bak-village" in line
        )
        lines[at] = lines[at].replace(b"bak-village", b"bak-villagf", 1)
        return b"\n".join(lines)

    forged = tmp_path / "forged.backup"
    rewrite(file, forged, changed_record)
    target = await database_factory()
    assert await cli(monkeypatch, target, fx.home, "restore", str(forged), *witness) == 1
    assert await tables(target) == {}

    # The archive as it was, its digests not updated: refused before anything is read.
    raw = tmp_path / "raw.backup"
    with tarfile.open(file, "r:gz") as tar, tarfile.open(raw, "w:gz") as out:
        for m in tar:
            data = tar.extractfile(m).read()  # type: ignore[union-attr]
            if m.name == "rows.jsonl":
                data = data.replace(b'"personal_data"', b'"personal_data" ', 1)
            m.size = len(data)
            out.addfile(m, io.BytesIO(data))
    assert await cli(monkeypatch, target, fx.home, "restore", str(raw), *witness) == 1
    assert await tables(target) == {}

    # A person's name changed in the rows beside the log (digests made to match): the log
    # verifies, but the name does not open its record's commitment, and nothing is kept.
    def renamed(name: str, data: bytes) -> bytes:
        if name != "rows.jsonl":
            return data
        lines = [json.loads(line) for line in data.splitlines()]
        person = next(line for line in lines if line["table"] == "personal_data")
        person["row"]["name"] = "王冒名"
        return b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines)

    swapped = tmp_path / "swapped.backup"
    rewrite(file, swapped, renamed)
    assert await cli(monkeypatch, target, fx.home, "restore", str(swapped), *witness) == 1
    assert await tables(target) == {}

    # Older than the checkpoint known to be right (the log grew since the backup): refused.
    await v.person()
    known = tmp_path / "known.checkpoint"
    known.write_text((await fx.client.http.get("/v1/checkpoint")).text)
    assert await cli(monkeypatch, target, fx.home, "restore", str(file), "--checkpoint", str(known)) == 1
    assert await tables(target) == {}


async def test_a_backup_is_on_disk_before_its_name_and_never_replaces_a_file(
    v: Village, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file and its folder are fsynced before the backup counts as written; and a file
    made at the backup's name while it was being written (after the first check) is kept."""
    import os

    from api.audit import backup

    fx = v.fx
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    file = tmp_path / "ledger.backup"
    assert await cli(monkeypatch, fx.url, fx.home, "backup", str(file)) == 0
    partials = [p for p in synced if p.startswith(f"{tmp_path}/.ledger.backup.") and p.endswith(".partial")]
    assert partials and str(tmp_path) in synced, synced
    assert synced.index(str(tmp_path)) > synced.index(partials[-1])

    real_bundle = backup.write_bundle
    raced = tmp_path / "raced.backup"

    async def bundle_then_another_file(*args: Any, **kw: Any) -> Any:
        done = await real_bundle(*args, **kw)
        raced.write_bytes(b"another backup, made meanwhile")
        return done

    monkeypatch.setattr(backup, "write_bundle", bundle_then_another_file)
    assert await cli(monkeypatch, fx.url, fx.home, "backup", str(raced)) == 2
    assert raced.read_bytes() == b"another backup, made meanwhile"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.backup", "raced.backup"]
