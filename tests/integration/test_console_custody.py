"""Keys held for console users (``api.console.custody``) against real PostgreSQL: sealed under
the KEK and opened only by it, bound to their organisation and key id, used only while the
ledger lists them as current, and the ``users keys`` commands."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.cli.main import main
from api.console.custody import (
    KEK_ENV,
    KEK_FILE_ENV,
    Custody,
    CustodyError,
    KeyEncryptionKey,
    configured_kek,
    create_kek_file,
    held_keys,
    seal,
    unseal,
)
from api.home import Home
from api.service.database import asyncpg_url, make_engine
from ledger.signing import KeyFile, SigningKey, b64
from tests.support import LedgerFixture

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
KEK = KeyEncryptionKey(bytes(range(32)))
OTHER_KEK = KeyEncryptionKey(bytes(range(1, 33)))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def engines(ledger: LedgerFixture) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """The service role's engine (what the console uses) and the owner's (to tamper with rows)."""
    service, owner = (
        make_engine(asyncpg_url(ledger.url)),
        make_engine(asyncpg_url(ledger.url), service_role=False),
    )
    yield service, owner
    await service.dispose()
    await owner.dispose()


def fresh_key(org: str) -> KeyFile:
    return KeyFile(org, SigningKey.generate())


async def held_for(engine: AsyncEngine, custody: Custody, org: str, key: KeyFile) -> None:
    async with engine.begin() as conn:
        await custody.store(conn, org, key, NOW)


async def loaded(engine: AsyncEngine, custody: Custody, org: str) -> KeyFile:
    async with engine.connect() as conn:
        return await custody.load(conn, org)


# --- sealing, without the database ---------------------------------------------------------


def test_a_sealed_key_opens_to_itself() -> None:
    key = fresh_key("township-a")
    sealed = seal(KEK, key)
    assert sealed.kek_id == KEK.kek_id and len(sealed.nonce) == 12
    assert key.key.seed not in sealed.ciphertext
    opened = unseal([KEK], sealed)
    assert (opened.org, opened.key.key_id, opened.key.seed) == (key.org, key.key.key_id, key.key.seed)


def test_every_seal_has_a_fresh_nonce() -> None:
    key = fresh_key("township-a")
    assert seal(KEK, key).nonce != seal(KEK, key).nonce


def test_a_wrong_kek_is_kek_mismatch_never_a_garbage_key() -> None:
    sealed = seal(KEK, fresh_key("township-a"))
    with pytest.raises(CustodyError, match=f"sealed under KEK {KEK.kek_id}") as e:
        unseal([OTHER_KEK], sealed)
    assert e.value.code == "console.kek_mismatch"


def test_a_row_naming_the_kek_but_sealed_by_another_is_corrupt() -> None:
    sealed = replace(seal(OTHER_KEK, fresh_key("township-a")), kek_id=KEK.kek_id)
    with pytest.raises(CustodyError, match="does not open") as e:
        unseal([KEK], sealed)
    assert e.value.code == "console.key_corrupt"


def flip(data: bytes, at: int = 0) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s: replace(s, ciphertext=flip(s.ciphertext)), id="ciphertext-bit"),
        pytest.param(lambda s: replace(s, ciphertext=flip(s.ciphertext, -1)), id="tag-bit"),
        pytest.param(lambda s: replace(s, ciphertext=s.ciphertext[:-1]), id="ciphertext-truncated"),
        pytest.param(lambda s: replace(s, nonce=flip(s.nonce)), id="nonce-bit"),
        pytest.param(lambda s: replace(s, nonce=s.nonce + b"\0"), id="nonce-longer"),
        pytest.param(lambda s: replace(s, org_id="township-b"), id="associated-data-org"),
        pytest.param(lambda s: replace(s, key_id="0" * 16), id="associated-data-key-id"),
    ],
)
def test_a_tampered_row_is_key_corrupt(tamper: object) -> None:
    sealed = seal(KEK, fresh_key("township-a"))
    with pytest.raises(CustodyError) as e:
        unseal([KEK], tamper(sealed))  # type: ignore[operator]
    assert e.value.code == "console.key_corrupt", e.value


def test_a_kek_is_32_bytes_of_base64() -> None:
    assert KeyEncryptionKey.from_text(KEK.as_text(), source="t") == KEK
    for bad in ("not base64!", KeyEncryptionKey.generate().as_text()[:-4], ""):
        with pytest.raises(CustodyError) as e:
            KeyEncryptionKey.from_text(bad, source="t")
        assert e.value.code == "console.kek_invalid"


def test_the_kek_comes_from_the_environment_before_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Home(tmp_path)
    monkeypatch.delenv(KEK_ENV, raising=False)
    monkeypatch.delenv(KEK_FILE_ENV, raising=False)
    with pytest.raises(CustodyError, match="users keys init") as e:
        configured_kek(home)
    assert e.value.code == "console.kek_missing"
    made = create_kek_file(tmp_path / "console.kek")
    assert stat.S_IMODE((tmp_path / "console.kek").stat().st_mode) == 0o600
    assert configured_kek(home) == made
    monkeypatch.setenv(KEK_ENV, KEK.as_text())
    assert configured_kek(home) == KEK
    monkeypatch.delenv(KEK_ENV)
    monkeypatch.setenv(KEK_FILE_ENV, str(tmp_path / "elsewhere.kek"))
    with pytest.raises(CustodyError, match=r"elsewhere\.kek"):
        configured_kek(home)


def test_a_kek_file_is_never_overwritten_and_never_open_to_others(tmp_path: Path) -> None:
    path = tmp_path / "console.kek"
    first = create_kek_file(path)
    with pytest.raises(FileExistsError):
        create_kek_file(path)
    assert KeyEncryptionKey.from_text(path.read_text(), source="f") == first
    assert [p.name for p in tmp_path.iterdir()] == ["console.kek"]  # no partial file left
    os.chmod(path, 0o640)
    with pytest.raises(CustodyError, match="readable by others"):
        configured_kek(Home(tmp_path))


# --- held keys in the database ------------------------------------------------------------


async def test_a_held_key_round_trips_through_the_database(
    ledger: LedgerFixture, engines: tuple[AsyncEngine, AsyncEngine]
) -> None:
    service, owner = engines
    key = await ledger.register("county", "township-rt", "township")
    custody = Custody(KEK)
    await held_for(service, custody, "township-rt", key)
    async with owner.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT * FROM console_org_keys WHERE key_id = :k"), {"k": key.key.key_id}
            )
        ).one()
    assert (row.org_id, row.kek_id, len(row.nonce)) == ("township-rt", KEK.kek_id, 12)
    assert key.key.seed not in bytes(row.ciphertext) and KEK.secret not in bytes(row.ciphertext)
    got = await loaded(service, custody, "township-rt")
    assert (got.org, got.key.seed) == ("township-rt", key.key.seed)
    with pytest.raises(CustodyError) as e:
        await held_for(service, custody, "township-rt", key)
    assert e.value.code == "console.key_exists"


async def test_the_wrong_kek_is_refused_in_load(
    ledger: LedgerFixture, engines: tuple[AsyncEngine, AsyncEngine]
) -> None:
    service, _ = engines
    key = await ledger.register("county", "township-kek", "township")
    await held_for(service, Custody(KEK), "township-kek", key)
    with pytest.raises(CustodyError) as e:
        await loaded(service, Custody(OTHER_KEK), "township-kek")
    assert e.value.code == "console.kek_mismatch"


@pytest.mark.parametrize("column", ["ciphertext", "nonce"])
async def test_a_row_tampered_in_the_database_is_key_corrupt(
    ledger: LedgerFixture, engines: tuple[AsyncEngine, AsyncEngine], column: str
) -> None:
    service, owner = engines
    org = f"township-t{column[0]}"
    key = await ledger.register("county", org, "township")
    await held_for(service, Custody(KEK), org, key)
    async with owner.begin() as conn:
        await conn.execute(
            text(
                f"UPDATE console_org_keys SET {column} = set_byte({column}, 2, get_byte({column}, 2) # 1) "
                "WHERE key_id = :k"
            ),
            {"k": key.key.key_id},
        )
    with pytest.raises(CustodyError) as e:
        await loaded(service, Custody(KEK), org)
    assert e.value.code == "console.key_corrupt"


async def test_a_key_is_used_only_for_its_own_organisation(
    ledger: LedgerFixture, engines: tuple[AsyncEngine, AsyncEngine]
) -> None:
    service, owner = engines
    a = await ledger.register("county", "township-own-a", "township")
    await ledger.register("county", "township-own-b", "township")
    custody = Custody(KEK)
    # A key file of one organisation, held for another: refused.
    with pytest.raises(CustodyError) as e:
        await held_for(service, custody, "township-own-b", a)
    assert e.value.code == "console.wrong_org"
    # A's key relabelled as B's key file: the ledger lists it as A's, refused.
    with pytest.raises(CustodyError, match="lists key") as e:
        await held_for(service, custody, "township-own-b", KeyFile("township-own-b", a.key))
    assert e.value.code == "console.wrong_org"
    await held_for(service, custody, "township-own-a", a)
    with pytest.raises(CustodyError) as e:
        await loaded(service, custody, "township-own-b")
    assert e.value.code == "console.no_key"
    # A's row moved to B in the database: B still has no key (the ledger lists it as A's), and
    # A's is no longer found as A's either.
    async with owner.begin() as conn:
        await conn.execute(
            text("UPDATE console_org_keys SET org_id = 'township-own-b' WHERE key_id = :k"),
            {"k": a.key.key_id},
        )
    for org in ("township-own-a", "township-own-b"):
        with pytest.raises(CustodyError) as e:
            await loaded(service, custody, org)
        assert e.value.code == "console.no_key"


async def test_a_revoked_key_is_never_used(
    ledger: LedgerFixture, engines: tuple[AsyncEngine, AsyncEngine]
) -> None:
    service, _ = engines
    custody = Custody(KEK)
    first = await ledger.register("county", "township-rev", "township")
    await held_for(service, custody, "township-rev", first)
    second = fresh_key("township-rev")
    # Held before the ledger lists it (the safe order): not used yet.
    await held_for(service, custody, "township-rev", second)
    assert (await loaded(service, custody, "township-rev")).key.key_id == first.key.key_id
    await ledger.client.append(
        first, "key.added", {"org": "township-rev", "public_key": b64(second.key.public_key)}
    )
    assert (await loaded(service, custody, "township-rev")).key.key_id == second.key.key_id
    await ledger.client.append(first, "key.revoked", {"key_id": second.key.key_id, "reason": "compromised"})
    assert (await loaded(service, custody, "township-rev")).key.key_id == first.key.key_id
    await ledger.client.append(
        ledger.keys["county"], "key.revoked", {"key_id": first.key.key_id, "reason": "retired"}
    )
    with pytest.raises(CustodyError) as e:
        await loaded(service, custody, "township-rev")
    assert e.value.code == "console.no_key"
    with pytest.raises(CustodyError) as e:
        await held_for(service, custody, "township-rev", KeyFile("township-rev", first.key))
    assert e.value.code == "console.key_revoked"
    async with service.connect() as conn:
        listed = {h.key_id: h.ledger for h in await held_keys(conn, "township-rev")}
    assert listed == {first.key.key_id: "revoked", second.key.key_id: "revoked"}


async def test_a_revoked_key_is_refused_when_held_anew(
    ledger: LedgerFixture, engines: tuple[AsyncEngine, AsyncEngine]
) -> None:
    service, _ = engines
    key = await ledger.register("county", "township-rev2", "township")
    await ledger.client.append(
        ledger.keys["county"], "key.revoked", {"key_id": key.key.key_id, "reason": "lost"}
    )
    with pytest.raises(CustodyError, match="revoked key") as e:
        await held_for(service, Custody(KEK), "township-rev2", key)
    assert e.value.code == "console.key_revoked"


async def test_a_rotated_kek_reseals_every_row_at_once(
    ledger: LedgerFixture, engines: tuple[AsyncEngine, AsyncEngine]
) -> None:
    service, owner = engines
    async with owner.begin() as conn:  # the rows of the tests above, some tampered with
        await conn.execute(text("DELETE FROM console_org_keys"))
    key = await ledger.register("county", "township-rot", "township")
    stray = await ledger.register("county", "township-rot2", "township")
    old, new, lost = KeyEncryptionKey.generate(), KeyEncryptionKey.generate(), KeyEncryptionKey.generate()
    await held_for(service, Custody(old), "township-rot", key)
    await held_for(service, Custody(lost), "township-rot2", stray)
    with pytest.raises(CustodyError) as e:
        await loaded(service, Custody(new), "township-rot")
    assert e.value.code == "console.kek_mismatch"
    rotated = Custody(new, previous=(old,))
    assert (await loaded(service, rotated, "township-rot")).key.key_id == key.key.key_id
    # A row sealed under a KEK not in hand: the reseal fails as a whole and moves nothing.
    with pytest.raises(CustodyError) as e:
        async with service.begin() as conn:
            await rotated.reseal(conn)
    assert e.value.code == "console.kek_mismatch"
    assert (await loaded(service, Custody(old), "township-rot")).key.key_id == key.key.key_id
    async with service.begin() as conn:
        assert await Custody(new, previous=(old, lost)).reseal(conn) == 2
    async with service.connect() as conn:
        assert {h.kek_id for h in await held_keys(conn)} == {new.kek_id}
    assert (await loaded(service, Custody(new), "township-rot")).key.key_id == key.key.key_id
    with pytest.raises(CustodyError) as e:
        await loaded(service, Custody(old), "township-rot")
    assert e.value.code == "console.kek_mismatch"


# --- the command line -----------------------------------------------------------------------


async def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``rural-ledger ARGS`` in this process (in a thread: it runs its own event loop)."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return code, out, err


async def test_users_keys_init_import_and_list(
    ledger: LedgerFixture,
    engines: tuple[AsyncEngine, AsyncEngine],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    service, _ = engines
    home = str(ledger.home.root)
    monkeypatch.setenv("DATABASE_URL", ledger.url)
    monkeypatch.delenv(KEK_ENV, raising=False)
    monkeypatch.setenv(KEK_FILE_ENV, str(tmp_path / "console.kek"))
    code, out, err = await cli(capsys, "--home", home, "users", "keys", "init")
    assert code == 0, err
    kek = configured_kek(ledger.home)
    assert kek.kek_id in out and stat.S_IMODE((tmp_path / "console.kek").stat().st_mode) == 0o600
    code, _, err = await cli(capsys, "--home", home, "users", "keys", "init")
    assert code == 2 and "never overwritten" in err

    key = await ledger.register("county", "township-cli", "township")
    key.write(tmp_path / "township-cli.key")
    code, out, err = await cli(
        capsys,
        "--home",
        home,
        "users",
        "keys",
        "import",
        "township-cli",
        "--key",
        str(tmp_path / "township-cli.key"),
    )
    assert code == 0, err
    assert key.key.key_id in out and "current key" in out
    assert (await loaded(service, Custody(kek), "township-cli")).key.seed == key.key.seed

    unlisted = fresh_key("township-cli")
    unlisted.write(tmp_path / "unlisted.key")
    code, out, err = await cli(
        capsys,
        "--home",
        home,
        "users",
        "keys",
        "import",
        "township-cli",
        "--key",
        str(tmp_path / "unlisted.key"),
    )
    assert code == 0 and "does not list it yet" in out, err

    code, _, err = await cli(
        capsys,
        "--home",
        home,
        "users",
        "keys",
        "import",
        "township-rt",
        "--key",
        str(tmp_path / "township-cli.key"),
    )
    assert code == 1 and "console.wrong_org" in err

    code, out, err = await cli(capsys, "--home", home, "users", "keys", "list", "--org", "township-cli")
    assert code == 0, err
    rows = out.splitlines()[1:]
    assert len(rows) == 2
    assert any(key.key.key_id in r and "current" in r and kek.kek_id in r for r in rows)
    assert any(unlisted.key.key_id in r and "unlisted" in r for r in rows)
    assert b64(key.key.seed) not in out and kek.as_text() not in out

    # The KEK rotated: a new KEK file configured, the old one kept until every row is resealed.
    service, owner = engines
    async with owner.begin() as conn:  # rows of the tests above, under KEKs not at hand here
        await conn.execute(text("DELETE FROM console_org_keys WHERE org_id <> 'township-cli'"))
    (tmp_path / "old.kek").write_text(kek.as_text())
    monkeypatch.setenv(KEK_FILE_ENV, str(tmp_path / "new.kek"))
    code, out, err = await cli(capsys, "--home", home, "users", "keys", "init")
    assert code == 0, err
    new = configured_kek(ledger.home)
    code, _, err = await cli(
        capsys, "--home", home, "users", "keys", "reseal", "--previous-kek", str(tmp_path / "new.kek")
    )
    assert code == 2 and "console.kek_mismatch" in err  # the old KEK not given: nothing moved
    code, out, err = await cli(
        capsys, "--home", home, "users", "keys", "reseal", "--previous-kek", str(tmp_path / "old.kek")
    )
    assert code == 0 and "resealed    2 held key(s)" in out, err
    async with service.connect() as conn:
        assert {h.kek_id for h in await held_keys(conn)} == {new.kek_id}
    assert (await loaded(service, Custody(new), "township-cli")).key.seed == key.key.seed
