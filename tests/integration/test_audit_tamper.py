"""Tampering by the database owner, who turns the append-only triggers off: each attack in its
own test, on its own ledger, against real PostgreSQL. `verify` must catch every one and name
the seq (or the table and key) and the reason."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import msgspec
import pytest

from api.http.app import Settings, create_app
from api.service.database import asyncpg_url
from ledger.canonical import canonical_bytes
from ledger.checkpoint import Checkpoint, NoteSigner, generate_signer, sign_checkpoint
from ledger.entry import format_time, parse_time
from ledger.merkle import CompactRange, leaf_hash
from ledger.signing import KeyFile, SigningKey, b64
from tests.conftest import FakeClock
from tests.integration.audit_support import bundle, failure, owner, populate, verify
from tests.support import LedgerFixture, open_ledger


@pytest.fixture
async def fresh(database_factory: object, tmp_path: Path) -> AsyncIterator[LedgerFixture]:
    """A ledger of its own for each tamper test (tampering destroys it)."""
    url = await database_factory()  # type: ignore[operator]
    async with open_ledger(url, tmp_path / "home", FakeClock()) as fx:
        await populate(fx)
        yield fx


async def seq_of(conn: asyncpg.Connection, kind: str, *, last: bool = False) -> int:
    order = "DESC" if last else "ASC"
    return int(
        await conn.fetchval(f"SELECT seq FROM records WHERE kind = $1 ORDER BY seq {order} LIMIT 1", kind)
    )


async def body_of(conn: asyncpg.Connection, seq: int) -> dict:  # type: ignore[type-arg]
    return msgspec.json.decode(await conn.fetchval("SELECT body FROM records WHERE seq = $1", seq))


async def reseal(conn: asyncpg.Connection, signer: NoteSigner) -> None:
    """What an operator who also holds the operator key could do after rewriting records:
    recompute every leaf hash and Merkle node and re-sign every checkpoint to match."""
    bodies = [bytes(r["body"]) for r in await conn.fetch("SELECT body FROM records ORDER BY seq")]
    tree, nodes, roots = CompactRange(), {}, {}
    for body in bodies:
        tree.append(leaf_hash(body), lambda level, index, h: nodes.__setitem__((level, index), h))
        roots[tree.size] = tree.root()
    for seq, body in enumerate(bodies):
        await conn.execute("UPDATE records SET leaf_hash = $2 WHERE seq = $1", seq, leaf_hash(body))
    await conn.executemany(
        "UPDATE merkle_nodes SET hash = $3 WHERE level = $1 AND idx = $2",
        [(level, index, h) for (level, index), h in nodes.items()],
    )
    origin = signer.name
    for row in await conn.fetch("SELECT size FROM checkpoints"):
        size = row["size"]
        note = sign_checkpoint(Checkpoint(origin, size, roots[size]), signer)
        await conn.execute(
            "UPDATE checkpoints SET root_hash = $2, note = $3 WHERE size = $1", size, roots[size], note
        )


def rebody(doc: dict, **changes: object) -> bytes:  # type: ignore[type-arg]
    return canonical_bytes({**doc, **changes})


@pytest.mark.parametrize("where", ["bundle", "server"])
async def test_a_changed_payload_is_caught(fresh: LedgerFixture, tmp_path: Path, where: str) -> None:
    conn = await owner(fresh)
    seq = await seq_of(conn, "org.registered", last=True)
    doc = await body_of(conn, seq)
    doc["entry"]["payload"]["name"] = "someone else"
    await conn.execute("UPDATE records SET body = $2 WHERE seq = $1", seq, rebody(doc))
    await conn.close()
    source = await bundle(fresh, tmp_path / "b") if where == "bundle" else None
    f = failure(await verify(fresh, source))
    assert (f["seq"], f["code"]) == (seq, "signature.invalid"), f


async def test_a_deleted_record_is_caught(fresh: LedgerFixture, tmp_path: Path) -> None:
    conn = await owner(fresh)
    seq = await seq_of(conn, "member.admitted")
    await conn.execute("DELETE FROM records WHERE seq = $1", seq)
    await conn.close()
    f = failure(await verify(fresh, await bundle(fresh, tmp_path / "b")))
    assert (f["seq"], f["code"]) == (seq, "record.out_of_place"), f
    assert f"expected the record of seq {seq}, found seq {seq + 1}" in f["reason"]


@pytest.mark.parametrize("nodes", [True, False])
async def test_two_swapped_records_are_caught(fresh: LedgerFixture, tmp_path: Path, nodes: bool) -> None:
    """The bodies trade places and their seq fields are rewritten to fit: each record is
    canonical and validly signed, and the rules accept the order; only the tree tells."""
    county = fresh.keys["county"]
    for _ in range(2):
        await fresh.client.append(
            county, "key.added", {"org": "county", "public_key": b64(SigningKey.generate().public_key)}
        )
    conn = await owner(fresh)
    last = await seq_of(conn, "key.added", last=True)
    a, b = await body_of(conn, last - 1), await body_of(conn, last)
    await conn.execute("UPDATE records SET body = $2 WHERE seq = $1", last - 1, rebody(b, seq=last - 1))
    await conn.execute("UPDATE records SET body = $2 WHERE seq = $1", last, rebody(a, seq=last))
    await conn.close()
    f = failure(await verify(fresh, await bundle(fresh, tmp_path / "b", nodes=nodes)))
    assert f["seq"] == last - 1, f
    assert f["code"] == ("node.mismatch" if nodes else "checkpoint.root_mismatch"), f


async def test_a_changed_merkle_node_is_caught(fresh: LedgerFixture, tmp_path: Path) -> None:
    conn = await owner(fresh)
    await conn.execute("UPDATE merkle_nodes SET hash = $1 WHERE level = 2 AND idx = 1", b"\x07" * 32)
    await conn.close()
    f = failure(await verify(fresh, await bundle(fresh, tmp_path / "b")))
    assert (f["seq"], f["code"]) == (4, "node.mismatch"), f
    assert "(2, 1) over records [4, 8)" in f["reason"]


async def test_a_changed_merkle_node_makes_the_service_refuse_writes(
    fresh: LedgerFixture, tmp_path: Path
) -> None:
    size = await fresh.size()
    top = CompactRange.decomposition(size)[0]
    conn = await owner(fresh)
    await conn.execute(
        "UPDATE merkle_nodes SET hash = $1 WHERE level = $2 AND idx = $3", b"\x07" * 32, top.level, top.index
    )
    await conn.close()
    from litestar.testing import AsyncTestClient

    app = create_app(Settings(home=fresh.home, database_url=asyncpg_url(fresh.url), clock=fresh.clock))
    async with AsyncTestClient(app=app, timeout=60) as http:
        health = (await http.get("/healthz")).json()
        assert health["status"] == "read-only"
        assert "stored nodes give root" in health["self_check"]
        r = await http.post(
            "/v1/entries",
            json=fresh.sign(
                fresh.keys["county"],
                "key.added",
                {"org": "county", "public_key": b64(SigningKey.generate().public_key)},
            ),
        )
        assert r.status_code == 503 and r.json()["code"] == "ledger.read_only"
        assert (await http.get("/healthz")).json()["size"] == size  # nothing was written


async def test_a_checkpoint_signed_with_another_key_is_caught(fresh: LedgerFixture, tmp_path: Path) -> None:
    impostor = NoteSigner.from_string(generate_signer(fresh.origin)[0])
    conn = await owner(fresh)
    size = 5
    root = await conn.fetchval("SELECT root_hash FROM checkpoints WHERE size = $1", size)
    await conn.execute(
        "UPDATE checkpoints SET note = $2 WHERE size = $1",
        size,
        sign_checkpoint(Checkpoint(fresh.origin, size, root), impostor),
    )
    await conn.close()
    f = failure(await verify(fresh, await bundle(fresh, tmp_path / "b")))
    assert (f["seq"], f["code"]) == (size - 1, "checkpoint.signature"), f
    assert "no signature by key" in f["reason"]


async def test_an_entry_resigned_with_a_revoked_key_is_caught(fresh: LedgerFixture, tmp_path: Path) -> None:
    """A developer's second key is revoked; its last entry, signed with its first key, is
    re-signed with the revoked one and the whole tree and every checkpoint are resealed with
    the operator key: hashes and signatures all check, only the key history refuses it."""
    county, dev = fresh.keys["county"], await fresh.register("county", "dev-r", "developer")
    revoked = KeyFile("dev-r", SigningKey.generate())
    await fresh.client.append(
        county, "key.added", {"org": "dev-r", "public_key": b64(revoked.key.public_key)}
    )
    await fresh.client.append(county, "key.revoked", {"key_id": revoked.key.key_id})
    await fresh.client.append(
        dev, "key.added", {"org": "dev-r", "public_key": b64(SigningKey.generate().public_key)}
    )
    conn = await owner(fresh)
    seq = await seq_of(conn, "key.added", last=True)
    doc = await body_of(conn, seq)
    entry = {**doc["entry"], "key": revoked.key.key_id}
    await conn.execute(
        "UPDATE records SET body = $2 WHERE seq = $1",
        seq,
        rebody(doc, entry=entry, sig=revoked.key.sign_entry(entry)),
    )
    await reseal(conn, fresh.home.operator_signer())
    await conn.close()
    f = failure(await verify(fresh, await bundle(fresh, tmp_path / "b")))
    assert (f["seq"], f["code"]) == (seq, "signature.revoked_key"), f
    assert f"was revoked at seq {seq - 1}" in f["reason"]


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("memberships", "status", "ended"),
        ("org_keys", "revoked_seq", None),
        ("orgs", "name", "another name"),
    ],
)
async def test_a_changed_projection_row_is_caught(
    fresh: LedgerFixture, table: str, column: str, value: object
) -> None:
    conn = await owner(fresh)
    pk = "key_id" if table == "org_keys" else "party_id" if table == "memberships" else "id"
    where = "revoked_seq IS NOT NULL" if table == "org_keys" else "true"
    key = await conn.fetchval(f"SELECT {pk} FROM {table} WHERE {where} ORDER BY {pk} LIMIT 1")
    await conn.execute(f"UPDATE {table} SET {column} = $2 WHERE {pk} = $1", key, value)
    await conn.close()
    outcome = await verify(fresh)
    assert outcome.status == "tampered" and outcome.exit_code == 1
    assert outcome.failure is None  # the log itself is intact
    assert outcome.server_digest == "differs"
    d = outcome.difference
    assert d is not None and (d.table, d.key) == (table, [str(key)]), d
    assert column in d.reason


async def test_a_projection_row_added_is_caught(fresh: LedgerFixture) -> None:
    conn = await owner(fresh)
    await conn.execute(
        "INSERT INTO orgs (id, name, type, parent_id, registered_seq, area_code, "
        "credit_code) SELECT 'ghost', name, type, parent_id, registered_seq, "
        "area_code, credit_code FROM orgs WHERE id = 'exchange'"
    )
    await conn.close()
    d = (await verify(fresh)).difference
    assert d is not None and (d.table, d.key) == ("orgs", ["ghost"])
    assert "replaying the log does not make it" in d.reason


async def truncate_and_regrow(fx: LedgerFixture, keep: int, regrow: int) -> None:
    """Cut the log back to ``keep`` records and append ``regrow`` different entries."""
    conn = await owner(fx)
    await conn.execute("DELETE FROM records WHERE seq >= $1", keep)
    await conn.execute("DELETE FROM merkle_nodes WHERE ((idx + 1) << level) > $1", keep)
    await conn.execute("DELETE FROM checkpoints WHERE size > $1", keep)
    await conn.close()
    for _ in range(regrow):
        await fx.client.append(
            fx.keys["county"],
            "key.added",
            {"org": "county", "public_key": b64(SigningKey.generate().public_key)},
        )


@pytest.mark.parametrize("regrow", [3, 40])
@pytest.mark.parametrize("mode", ["bundle", "bundle-full", "server"])
async def test_a_truncated_and_regrown_log_is_a_split_view(
    fresh: LedgerFixture, tmp_path: Path, regrow: int, mode: str
) -> None:
    """The auditor saved a checkpoint; the log is cut back 5 records and regrown, with every
    checkpoint signed by the operator: incremental (from the saved state), full (the saved
    checkpoint alone) and against the server (its consistency proof), all see the split."""
    saved = tmp_path / "audited.checkpoint"
    assert (await verify(fresh, None, "--save", str(saved))).status == "intact"
    if mode == "bundle-full":
        (tmp_path / "audited.checkpoint.state").unlink()
    size = await fresh.size()
    await truncate_and_regrow(fresh, size - 5, regrow)
    assert (await fresh.size()) == size - 5 + regrow
    source = None if mode == "server" else await bundle(fresh, tmp_path / "b")
    f = failure(await verify(fresh, source, "--since", str(saved)))
    assert f["code"] == "log.split_view", f
    if mode == "server" and regrow > 5:
        assert f["seq"] == size - 1 and "does not extend" in f["reason"]
        return
    assert f["seq"] == (size - 1 if regrow > 5 else size - 5 + regrow)
    assert ("rewritten" if regrow > 5 else "truncated") in f["reason"]


@pytest.mark.parametrize("where", ["bundle", "server"])
async def test_a_record_recorded_before_the_previous_one_is_caught(
    fresh: LedgerFixture, tmp_path: Path, where: str
) -> None:
    """A record's recorded_at moved to before its predecessor's (a notice period made to run
    out sooner, say), every hash and checkpoint resealed with the operator key: each record is
    canonical and validly signed, only the order of the times tells."""
    county = fresh.keys["county"]
    for _ in range(2):
        await fresh.client.append(
            county, "key.added", {"org": "county", "public_key": b64(SigningKey.generate().public_key)}
        )
    conn = await owner(fresh)
    seq = await seq_of(conn, "key.added", last=True) - 1  # not the last: the one after it is later
    previous = parse_time((await body_of(conn, seq - 1))["recorded_at"])
    forged = previous - timedelta(seconds=1)
    await conn.execute(
        "UPDATE records SET body = $2, recorded_at = $3 WHERE seq = $1",
        seq,
        rebody(await body_of(conn, seq), recorded_at=format_time(forged)),
        forged,
    )
    await reseal(conn, fresh.home.operator_signer())
    await conn.close()
    source = await bundle(fresh, tmp_path / "b") if where == "bundle" else None
    f = failure(await verify(fresh, source))
    assert (f["seq"], f["code"]) == (seq, "record.time_backwards"), f
    assert f"before the previous record's {format_time(previous)}" in f["reason"]


async def test_a_reused_entry_id_is_caught(fresh: LedgerFixture, tmp_path: Path) -> None:
    """An entry id used twice (the second copy's id rewritten, all resealed) is refused."""
    conn = await owner(fresh)
    first, last = await seq_of(conn, "org.registered"), await seq_of(conn, "key.revoked")
    used = (await body_of(conn, first))["entry"]["id"]
    doc = await body_of(conn, last)
    entry = {**doc["entry"], "id": used}
    county = fresh.keys["county"]
    await conn.execute(
        "UPDATE records SET body = $2 WHERE seq = $1",
        last,
        rebody(doc, entry=entry, sig=county.key.sign_entry(entry)),
    )
    await reseal(conn, fresh.home.operator_signer())
    await conn.close()
    assert uuid.UUID(used)
    f = failure(await verify(fresh, await bundle(fresh, tmp_path / "b")))
    assert (f["seq"], f["code"]) == (last, "entry.duplicate_id"), f
