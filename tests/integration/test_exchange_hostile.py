"""Hostile input on every exchange kind (and the working-day calendar), through the HTTP API:
integers beyond the schema's bounds (and beyond what canonical JSON can hold), NUL in every
string, nesting deep and deeper than the body allows, a key given twice, and entries replayed
with their id. Each is answered with a 4xx problem (the request's, or the entry's own in a
list), never a 500, and the log does not move, except by the one new entry a replay names.

The base payloads are real: one entry of each kind accepted in a small market, so every
mutation differs from an entry the rules admit by that one hostile change."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from contracts.exchange.common import EXCHANGE_VERSION
from contracts.rulebook import RULEBOOK
from tests.exchange_http import Market
from tests.hostile_support import (
    integers_beyond,
    leaves,
    nested,
    nul_in_every_string,
    refused_each,
    refused_request,
    refused_unencodable,
    replaced,
)
from tests.support import LedgerFixture

KINDS = sorted(k for k in RULEBOOK.kinds(RULEBOOK.current) if RULEBOOK.first_version(k) == EXCHANGE_VERSION)


@dataclass
class Recording(Market):
    """A market that keeps the first signed entry of each kind it got accepted, with its seq."""

    accepted: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)

    async def act(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await self.accept(self.key, kind, payload)

    async def accept(self, key: Any, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        item = self.fx.sign(key, kind, payload)
        receipt = await self.fx.client.submit(item)
        self.accepted.setdefault(kind, (item, receipt["seq"]))
        return receipt


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def m(ledger: LedgerFixture) -> AsyncIterator[Recording]:
    """One accepted entry of every kind: a deal to its certificate (with a hold on the way), a
    sealed listing, in-auction matching, a withdrawal and failure, an extension and withdrawal,
    and a year's calendar."""
    r = await Recording.open(ledger, "hostile", parcels=5, full=False)
    await r.accept(
        ledger.keys["county"],
        "calendar.declared",
        {"year": 2031, "holidays": ["2031-10-01"], "working_weekend_days": ["2031-10-11"]},
    )
    loser, winner = await r.bidding("L-deal")
    await r.hold("L-deal")
    await r.lift("L-deal")
    await r.bid("L-deal", loser, 80_000)
    await r.bid("L-deal", winner, 90_000)
    await r.after_close("L-deal")
    await r.award("L-deal", winner, 90_000)
    await r.sign_contract("L-deal")
    await r.pay("L-deal")
    await r.refund("L-deal", loser)
    await r.certify("L-deal")

    a, b = await r.bidding("L-sealed", method="sealed")
    await r.seal("L-sealed", a, 90_000)
    await r.seal("L-sealed", b, 95_000)
    await r.after_close("L-sealed")
    await r.open_quote("L-sealed", a, 90_000)

    await r.set_policy(priority_model="in_auction_match")
    await r.lot("L-match")
    await r.set_policy(priority_model="tie")
    member, outsider = await r.register("L-match", r.buyers[0]), await r.register_entity("L-match")
    r.open_bidding("L-match")
    await r.bid("L-match", outsider, 80_000)
    await r.match("L-match", member, 80_000)

    quitter, _ = await r.bidding("L-failed")
    await r.default("L-failed", quitter, "withdrawal_after_qualification")
    await r.after_close("L-failed")
    await r.fail("L-failed")

    await r.lot("L-extended")
    r.open_bidding("L-extended")
    await r.extend("L-extended")
    await r.withdraw("L-extended")
    assert sorted(r.accepted) == KINDS
    yield r
    await r.close()


def payload_of(m: Recording, kind: str) -> dict[str, Any]:
    return copy.deepcopy(m.accepted[kind][0]["entry"]["payload"])


def key_of(m: Recording, kind: str) -> Any:
    return m.fx.keys["county"] if kind == "calendar.declared" else m.key


def first_field(payload: dict[str, Any]) -> str:
    return "listing" if "listing" in payload else next(iter(payload))


async def test_every_kind_was_accepted_once(m: Recording) -> None:
    # The base of every mutation below is an entry the rules admitted.
    assert sorted(m.accepted) == KINDS and len(KINDS) == 19


async def test_integers_beyond_the_schema_bounds(m: Recording) -> None:
    items = []
    for kind in KINDS:
        payload = payload_of(m, kind)
        paths = [p for p, v in leaves(payload) if isinstance(v, int) and not isinstance(v, bool)]
        paths.append((first_field(payload),))  # an integer where a string belongs
        for path in paths:
            for value in (10**13 + 1, 2**53 - 1, -1):
                items.append(
                    (
                        f"{kind} {path}={value}",
                        m.fx.sign(key_of(m, kind), kind, replaced(payload, path, value)),
                    )
                )
    await refused_each(m, items, {"payload.invalid"})


@pytest.mark.parametrize(
    "value", [2**53, 2**64, -(2**63) - 1, 10**400], ids=["2^53", "2^64", "-2^63-1", "10^400"]
)
async def test_integers_beyond_canonical_json(m: Recording, value: int) -> None:
    """No canonical form holds them, so nobody can sign them: the entry is malformed."""
    items = integers_beyond({kind: m.accepted[kind][0] for kind in KINDS}, value, first_field)
    await refused_unencodable(m, items)


async def test_nul_in_every_string(m: Recording) -> None:
    items = []
    for kind in KINDS:
        payload = payload_of(m, kind)
        items += nul_in_every_string(
            lambda k, body: m.fx.sign(key_of(m, k), k, body), kind, payload, first_field(payload)
        )
    await refused_each(m, items, {"payload.invalid"})


async def test_nul_in_the_envelope(m: Recording) -> None:
    items = []
    for kind in KINDS:
        item = m.accepted[kind][0]
        for name in ("id", "kind", "actor", "key", "signed_at", "ledger"):
            entry = {**item["entry"], name: item["entry"][name] + "\x00"}
            items.append((f"{kind} {name}", {"entry": entry, "sig": item["sig"]}))
        items.append((f"{kind} sig", {"entry": item["entry"], "sig": item["sig"] + "\x00"}))
    await refused_each(m, items, None)


async def test_nesting_the_schema_does_not_take(m: Recording) -> None:
    items = []
    for kind in KINDS:
        payload = payload_of(m, kind)
        for value in (nested(40), {"listing": nested(20)}):
            hostile = replaced(payload, (first_field(payload),), value)
            items.append((kind, m.fx.sign(key_of(m, kind), kind, hostile)))
        items.append((f"{kind} extra field", m.fx.sign(key_of(m, kind), kind, {**payload, "x": nested(30)})))
    await refused_each(m, items, {"payload.invalid"})


@pytest.mark.parametrize("kind", KINDS)
async def test_nesting_deeper_than_a_body_may(m: Recording, kind: str) -> None:
    payload = payload_of(m, kind)
    hostile = replaced(payload, (first_field(payload),), nested(100))
    body = json.dumps(m.fx.sign(key_of(m, kind), kind, hostile)).encode()
    await refused_request(m, body, 400, "request.too_deep", kind)
    await refused_request(
        m, json.dumps({"entries": [json.loads(body)]}).encode(), 400, "request.too_deep", kind
    )


@pytest.mark.parametrize("kind", KINDS)
async def test_key_given_twice(m: Recording, kind: str) -> None:
    """Two readers of the bytes could see two entries: the request is refused whole."""
    item = m.accepted[kind][0]
    name = first_field(item["entry"]["payload"])
    text = json.dumps(item, ensure_ascii=False)
    assert text.count('"payload": {') == 1
    twice = text.replace('"payload": {', f'"payload": {{"{name}": "L-other", ')
    await refused_request(m, twice.encode(), 400, "request.duplicate_key", kind)
    entry_twice = text.replace('"entry": {', '"entry": {"kind": "exchange.bid", ', 1)
    await refused_request(m, entry_twice.encode(), 400, "request.duplicate_key", f"{kind} envelope")


async def test_accepted_entries_replayed(m: Recording) -> None:
    """The same signed entry again, alone or twice in a list, answers its first receipt: the
    log holds it once."""
    size = await m.fx.size()
    items = [item for kind in KINDS for item in (m.accepted[kind][0],) * 2]
    answers = await m.fx.client.submit_many(items)
    assert [a.get("seq") for a in answers] == [m.accepted[k][1] for k in KINDS for _ in range(2)]
    for kind in KINDS:
        receipt = await m.fx.client.submit(m.accepted[kind][0])
        assert receipt["seq"] == m.accepted[kind][1], kind
    assert await m.fx.size() == size


async def test_another_entry_under_an_accepted_id(m: Recording) -> None:
    m.move_to(m.now() + timedelta(seconds=1))
    items = []
    for kind in KINDS:
        item, _ = m.accepted[kind]
        again = m.fx.sign(key_of(m, kind), kind, item["entry"]["payload"], entry_id=item["entry"]["id"])
        assert again["entry"] != item["entry"]  # signed at another time
        items.append((kind, again))
        other_kind = "exchange.failed" if kind != "exchange.failed" else "exchange.extended"
        items.append(
            (
                f"{kind} as {other_kind}",
                m.fx.sign(m.key, other_kind, {"listing": "L-deal"}, entry_id=item["entry"]["id"]),
            )
        )
    problems = await refused_each(m, items, {"entry.id_conflict"})
    assert all(p["status"] == 409 for p in problems), problems


async def test_new_entry_twice_in_one_list(m: Recording) -> None:
    size = await m.fx.size()
    item = m.fx.sign(
        m.fx.keys["county"], "calendar.declared", {"year": 2032, "holidays": [], "working_weekend_days": []}
    )
    first, second = await m.fx.client.submit_many([item, item])
    assert "seq" in first and second.get("seq") == first["seq"], (first, second)
    assert await m.fx.size() == size + 1
