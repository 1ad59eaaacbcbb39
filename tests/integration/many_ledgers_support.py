"""Two county ledgers in one database, each served by its own app, and the checks the
many-ledgers tests make of them: over each ledger's HTTP API, as the owner (who sees every
ledger's rows) and on the database's catalogue."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.ddl import SERVICE_ROLE
from ledger.proofs import verify_consistency
from ledger.signing import SigningKey, b64
from tests.conftest import FakeClock
from tests.exchange_http import served_ledger
from tests.support import LedgerFixture

ORIGINS = ("test.rural-ledger/weihai-wendeng", "test.rural-ledger/weihai-rongcheng")
UNKEYED = ("alembic_version", "ledger_meta")  # the only tables without a leading ledger_id
WITHOUT_POLICY = ("projection_history",)  # keyed, filtered by its readers (migration 0015)


@asynccontextmanager
async def two_ledgers(url: str, homes: Sequence[Path]) -> AsyncIterator[tuple[LedgerFixture, LedgerFixture]]:
    """Two ledgers initialised in the one database ``url``, each with its own home and its own
    app, served under uvicorn in this event loop (``served_ledger``: the in-process test client
    answers one request at a time, and these appends must really run at once)."""
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(served_ledger(url, homes[0], FakeClock(), ORIGINS[0]))
        b = await stack.enter_async_context(served_ledger(url, homes[1], FakeClock(), ORIGINS[1]))
        yield a, b


def mixed_entries(fx: LedgerFixture, towns: int, keys: int, seed: int) -> list[dict[str, Any]]:
    """Township registrations and county keys, signed for ``fx``'s ledger, shuffled by ``seed``.
    Entry ids and org ids come from ``seed`` alone, so two ledgers given the same seed hold
    entries with the same ids (each ledger's ids are its own: neither may see the other's)."""
    rng = random.Random(seed)
    payloads = [
        ("org.registered", fx.org_payload("county", f"town-{n:02d}", "township")) for n in range(towns)
    ]
    payloads += [("key.added", {"org": "county", "public_key": fresh_key()}) for _ in range(keys)]
    rng.shuffle(payloads)
    county = fx.keys["county"]
    return [
        fx.sign(county, kind, payload, entry_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        for kind, payload in payloads
    ]


def fresh_key() -> str:
    return b64(SigningKey.generate().public_key)


@dataclass
class InFlight:
    """Requests outstanding at once, per ledger: shows that two ledgers' appends overlapped."""

    now: dict[str, int] = field(default_factory=dict)
    both_at_once: int = 0  # times a request left while the other ledger had one outstanding

    def start(self, origin: str) -> None:
        self.now[origin] = self.now.get(origin, 0) + 1
        if any(n for o, n in self.now.items() if o != origin):
            self.both_at_once += 1

    def end(self, origin: str) -> None:
        self.now[origin] -= 1


async def send_concurrently(
    fx: LedgerFixture, items: list[dict[str, Any]], clients: int, per_request: int, in_flight: InFlight
) -> list[dict[str, Any]]:
    """``clients`` concurrent clients submit ``items`` in requests of ``per_request``; every
    other request of a client carries its previous request's entries again, ahead of the new
    ones (a client retrying a batch whose answer it lost). Results in item order; each entry's
    answers (first and repeated) are all checked to name one seq."""
    seqs: list[set[int]] = [set() for _ in items]
    chunks = [list(range(i, min(i + per_request, len(items)))) for i in range(0, len(items), per_request)]

    async def client(n: int) -> None:
        previous: list[int] = []
        for k, chunk in enumerate(chunks[n::clients]):
            sent = (previous if k % 2 else []) + chunk
            in_flight.start(fx.origin)
            try:
                r = await fx.client.http.post("/v1/entries", json={"entries": [items[i] for i in sent]})
            finally:
                in_flight.end(fx.origin)
            assert r.status_code == 200, r.text
            for i, result in zip(sent, r.json()["results"], strict=True):
                assert "seq" in result, result
                seqs[i].add(result["seq"])
            previous = chunk

    await asyncio.gather(*(client(n) for n in range(clients)))
    assert all(len(s) == 1 for s in seqs), "an entry was answered with two seqs"
    return [{"seq": next(iter(s))} for s in seqs]


async def submit_all(fx: LedgerFixture, items: list[dict[str, Any]]) -> list[int]:
    """One request of every item; the seq each is answered with."""
    r = await fx.client.http.post("/v1/entries", json={"entries": items})
    assert r.status_code == 200, r.text
    return [int(result["seq"]) for result in r.json()["results"]]


async def pages(http: httpx.AsyncClient, path: str, after: int) -> list[dict[str, Any]]:
    """Every item of a keyset-paged list (``{"items", "next"}``) after ``after``."""
    items: list[dict[str, Any]] = []
    while True:
        r = await http.get(path, params={"after": after, "limit": 1000})
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        if page["next"] is None:
            return items
        after = page["next"]


async def latest_checkpoint(fx: LedgerFixture) -> Checkpoint:
    r = await fx.client.http.get("/v1/checkpoint")
    assert r.status_code == 200, r.text
    return open_checkpoint(r.text, fx.verifier, origin=fx.origin)


async def checkpoints_are_prefixes(fx: LedgerFixture) -> int:
    """Every stored checkpoint of ``fx``'s ledger is signed by its operator for its origin, and
    is a prefix of the latest (a consistency proof from the ledger's own API); how many."""
    final = await latest_checkpoint(fx)
    stored = await pages(fx.client.http, "/v1/checkpoints", 0)
    for item in stored:
        cp = open_checkpoint(item["note"], fx.verifier, origin=fx.origin)
        if cp.size == final.size:
            assert cp.root_hash == final.root_hash
            continue
        r = await fx.client.http.get("/v1/proofs/consistency", params={"from": cp.size, "to": final.size})
        assert r.status_code == 200, r.text
        proof = [bytes.fromhex(h) for h in r.json()["proof"]]
        verify_consistency(cp.size, final.size, proof, cp.root_hash, final.root_hash)
    assert stored and stored[-1]["size"] == final.size
    return len(stored)


def record_origin(body: bytes) -> str:
    return str(json.loads(body)["entry"]["ledger"])


# The owner's view: every ledger's rows (the owner is not subject to row-level security).


async def ledger_numbers(owner: asyncpg.Connection) -> dict[str, int]:
    return {r["origin"]: r["id"] for r in await owner.fetch("SELECT id, origin FROM ledger_meta")}


async def keyed_tables(owner: asyncpg.Connection) -> list[str]:
    """Every table of the database but the two that are not keyed by ledger."""
    rows = await owner.fetch(
        "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace"
        " AND NOT relname = ANY($1::text[]) ORDER BY relname",
        list(UNKEYED),
    )
    return [r["relname"] for r in rows]


async def rows_by_ledger(owner: asyncpg.Connection, table: str) -> dict[int, int]:
    rows = await owner.fetch(f'SELECT ledger_id, count(*) AS n FROM "{table}" GROUP BY ledger_id')
    return {r["ledger_id"]: r["n"] for r in rows}


@dataclass(frozen=True, slots=True)
class KeyProblem:
    table: str
    what: str  # "primary key x", "index y", "row-level security", ...

    def __str__(self) -> str:
        return f"{self.table}: {self.what}"


LEADING_LEDGER_SQL = """
SELECT c.relname AS table, con.conname AS name, con.contype::text AS kind,
       a.attname IS NOT DISTINCT FROM 'ledger_id' AS leads,
       con.contype <> 'f' OR fa.attname IS NOT DISTINCT FROM 'ledger_id' AS refers_by_ledger
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
LEFT JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
LEFT JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = con.confkey[1]
WHERE c.relnamespace = 'public'::regnamespace AND con.contype IN ('p', 'u', 'f')
  AND NOT c.relname = ANY($1::text[])
UNION ALL
SELECT c.relname, i.relname, 'btree index', a.attname IS NOT DISTINCT FROM 'ledger_id', true
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_am am ON am.oid = i.relam AND am.amname = 'btree'
LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
WHERE c.relnamespace = 'public'::regnamespace AND NOT c.relname = ANY($1::text[])
"""

POLICY_SQL = """
SELECT c.relname AS table, c.relrowsecurity AS enabled,
       coalesce(array_agg(pg_get_expr(p.polqual, p.polrelid) || ' / '
           || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), pg_get_expr(p.polqual, p.polrelid)))
           FILTER (WHERE p.polcmd = '*'), '{}') AS policies,
       pg_get_userbyid(c.relowner) AS owner,
       d.adbin IS NOT NULL AND pg_get_expr(d.adbin, d.adrelid) LIKE '%rural_ledger.ledger%' AS defaulted,
       coalesce(col.attnotnull, false) AS not_null
FROM pg_class c
LEFT JOIN pg_policy p ON p.polrelid = c.oid
LEFT JOIN pg_attribute col ON col.attrelid = c.oid AND col.attname = 'ledger_id' AND NOT col.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = col.attnum
WHERE c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace AND NOT c.relname = ANY($1::text[])
GROUP BY c.relname, c.relrowsecurity, c.relowner, d.adbin, d.adrelid, col.attnotnull
"""

KIND_NAMES = {"p": "primary key", "u": "unique constraint", "f": "foreign key"}


async def ledger_key_problems(conn: asyncpg.Connection) -> list[KeyProblem]:
    """What keeps a table from being one ledger's rows only: a key, foreign key or btree index
    not led by ``ledger_id`` (or a foreign key not referring to one that is), a ``ledger_id``
    that may be null or does not default to the connection's ledger, row-level security off or
    without a policy on ``ledger_id`` (``projection_history`` excepted), and a service role
    that owns a table or bypasses row-level security."""
    problems: list[KeyProblem] = []
    for r in await conn.fetch(LEADING_LEDGER_SQL, list(UNKEYED)):
        kind = KIND_NAMES.get(r["kind"], r["kind"])
        if not r["leads"]:
            problems.append(KeyProblem(r["table"], f"{kind} {r['name']} is not led by ledger_id"))
        if not r["refers_by_ledger"]:
            problems.append(
                KeyProblem(r["table"], f"{kind} {r['name']} refers to a key not led by ledger_id")
            )
    for r in await conn.fetch(POLICY_SQL, list(UNKEYED)):
        table = r["table"]
        if not (r["defaulted"] and r["not_null"]):
            problems.append(KeyProblem(table, "ledger_id missing, nullable or not the connection's ledger"))
        if r["owner"] == SERVICE_ROLE:
            problems.append(KeyProblem(table, f"owned by {SERVICE_ROLE}, so row-level security skips it"))
        if table in WITHOUT_POLICY:
            continue
        if not r["enabled"]:
            problems.append(KeyProblem(table, "row-level security is not enabled"))
        if not any(_keeps_to_ledger(q) for q in r["policies"]):
            problems.append(KeyProblem(table, "no policy keeps it to the connection's ledger"))
    bypass = await conn.fetchval(
        "SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = $1", SERVICE_ROLE
    )
    if bypass is not False:
        problems.append(KeyProblem(SERVICE_ROLE, "missing, a superuser, or bypasses row-level security"))
    return problems


def _keeps_to_ledger(policy: str) -> bool:
    """Both of a policy's conditions (USING / WITH CHECK) compare ledger_id with the setting."""
    return all("ledger_id" in part and "rural_ledger.ledger" in part for part in policy.split(" / "))
