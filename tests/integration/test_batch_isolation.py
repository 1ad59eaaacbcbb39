"""One entry never fails its batch: an entry whose rule raises, or whose row the database
refuses, is answered with its own problem while the rest of the batch is stored.

The faults are injected as two extra rules, registered for the test's own kinds only: one
stages a row holding U+0000 in a text column (which PostgreSQL refuses at write time, whatever
the payload schemas let through), one raises ``RuntimeError``. The database is the real one.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from api.client import check_receipt
from contracts.orgs import Org
from contracts.registry import Payload, RecordContext, Rule
from contracts.rulebook import RULEBOOK
from contracts.state import Change, Put, State
from tests.support import LedgerFixture, township_payload

UNSTORABLE, RULE_BUG = "test.unstorable", "test.rule_bug"
_serial = itertools.count(100)


class Marker(Payload):
    org: str


def _unstorable(_state: State, rec: RecordContext, p: Marker) -> list[Change]:
    return [Put(Org(id=p.org, name="a name PostgreSQL refuses\x00", type="test", registered_seq=rec.seq))]


def _rule_bug(_state: State, _rec: RecordContext, _p: Marker) -> list[Change]:
    raise RuntimeError("a rule with a bug")


@pytest.fixture
def faulty_rules(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Two test-only kinds in force under every rule version, gone after the test."""
    for version in RULEBOOK.versions:
        kinds = RULEBOOK.kinds(version)
        monkeypatch.setitem(kinds, UNSTORABLE, Rule(UNSTORABLE, Marker, _unstorable))
        monkeypatch.setitem(kinds, RULE_BUG, Rule(RULE_BUG, Marker, _rule_bug))
    yield


def township(n: int) -> dict[str, object]:
    return township_payload(f"iso-{n}", f"隔离{n}镇", n)


def valid(ledger: LedgerFixture) -> dict[str, Any]:
    return ledger.sign(ledger.keys["county"], "org.registered", township(next(_serial)))


def poisoned(ledger: LedgerFixture, kind: str) -> dict[str, Any]:
    return ledger.sign(ledger.keys["county"], kind, {"org": f"poison-{next(_serial)}"})


async def submit_list(ledger: LedgerFixture, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = await ledger.client.http.post("/v1/entries", json={"entries": items})
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


async def assert_stored_at(ledger: LedgerFixture, item: dict[str, Any], seq: int) -> None:
    record = await ledger.client.get(f"/v1/entries/{seq}")
    assert record["entry"]["id"] == item["entry"]["id"]


async def test_poisoned_entries_in_a_list_are_answered_alone(
    ledger: LedgerFixture, faulty_rules: None
) -> None:
    items = [valid(ledger), poisoned(ledger, UNSTORABLE), poisoned(ledger, RULE_BUG), valid(ledger)]
    size = await ledger.size()
    first, unstorable, bug, last = await submit_list(ledger, items)
    assert unstorable["error"]["code"] == "entry.unstorable"
    assert unstorable["error"]["status"] == 422
    assert bug["error"]["code"] == "server.rule_failed"
    for item, receipt in ((items[0], first), (items[3], last)):
        check_receipt(receipt, ledger.verifier, ledger.origin)
        await assert_stored_at(ledger, item, receipt["seq"])
    assert await ledger.size() == size + 2
    assert [first["seq"], last["seq"]] == [size, size + 1]


async def test_a_lone_poisoned_entry_gets_its_problem(ledger: LedgerFixture, faulty_rules: None) -> None:
    size = await ledger.size()
    r = await ledger.client.http.post("/v1/entries", json=poisoned(ledger, UNSTORABLE))
    assert r.status_code == 422 and r.json()["code"] == "entry.unstorable"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await ledger.size() == size
    item = valid(ledger)  # the appender's head and caches are still right
    receipt = await ledger.client.submit(item)
    check_receipt(receipt, ledger.verifier, ledger.origin)
    assert receipt["seq"] == size


CLIENTS, ROUNDS, PER_ROUND = 8, 4, 10


async def test_eight_clients_while_one_poisons(ledger: LedgerFixture, faulty_rules: None) -> None:
    """Eight clients submit lists at once; one of them puts a poisoned entry in every other
    place of its lists. Only the poisoned entries are refused."""
    size = await ledger.size()
    sent: list[tuple[dict[str, Any], bool]] = []  # (item, poisoned)
    answers: list[dict[str, Any]] = []

    async def client(n: int) -> None:
        for _ in range(ROUNDS):
            items = [
                (poisoned(ledger, (UNSTORABLE, RULE_BUG)[i % 4 // 2]), True)
                if n == 0 and i % 2
                else (valid(ledger), False)
                for i in range(PER_ROUND)
            ]
            results = await submit_list(ledger, [item for item, _ in items])
            sent.extend(items)
            answers.extend(results)

    await asyncio.wait_for(asyncio.gather(*(client(n) for n in range(CLIENTS))), 120)
    poisoned_sent = sum(1 for _, bad in sent if bad)
    refused = [a for (_, bad), a in zip(sent, answers, strict=True) if bad and "error" in a]
    acks = [(item, a) for (item, bad), a in zip(sent, answers, strict=True) if not bad]
    assert len(refused) == poisoned_sent == ROUNDS * PER_ROUND // 2
    assert all("seq" in a for _, a in acks), [a for _, a in acks if "seq" not in a][:3]
    seqs = sorted(a["seq"] for _, a in acks)
    assert seqs == list(range(size, size + len(acks)))  # gapless, nothing else stored
    assert await ledger.size() == size + len(acks)
    for item, a in acks:
        await assert_stored_at(ledger, item, a["seq"])
    print(
        f"\n{len(sent)} sent by {CLIENTS} clients, {poisoned_sent} poisoned, "
        f"{len(refused)} refused, {len(acks)} acknowledged and found at their seq"
    )
