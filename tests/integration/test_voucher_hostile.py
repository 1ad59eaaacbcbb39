"""Hostile input on every house-voucher and land-quota kind, through the HTTP API: integers
beyond the schema's bounds (and beyond what canonical JSON can hold), NUL in every string and
in a key, nesting deep and deeper than the body allows, a key given twice, and entries replayed
with their id. Each is answered with a 4xx problem (the request's, or the entry's own in a
list), never a 500, and the log does not move; a replayed redemption or transfer answers its
first receipt and moves no voucher again.

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

from contracts.rulebook import RULEBOOK
from contracts.vouchers.terms import VOUCHER_VERSION
from ledger.signing import KeyFile
from tests.hostile_support import (
    integer_paths,
    integers_beyond,
    nested,
    nul_in_every_string,
    refused_each,
    refused_request,
    refused_unencodable,
    replaced,
)
from tests.support import LedgerFixture
from tests.voucher_http import FACE_FEN, VoucherMarket

KINDS = sorted(k for k in RULEBOOK.kinds(RULEBOOK.current) if RULEBOOK.first_version(k) == VOUCHER_VERSION)


@dataclass
class Recording(VoucherMarket):
    """A market that keeps the first signed entry of each kind it got accepted, with its seq
    and the key that signed it."""

    accepted: dict[str, tuple[dict[str, Any], int, KeyFile]] = field(default_factory=dict)

    async def signed(self, key: KeyFile, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        item = self.fx.sign(key, kind, payload)
        receipt = await self.fx.client.submit(item)
        self.accepted.setdefault(kind, (item, receipt["seq"], key))
        return receipt


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def m(ledger: LedgerFixture) -> AsyncIterator[Recording]:
    """One accepted entry of every kind: the schedule and the pool (a developer admitted, its
    projects, another that leaves), a voucher redeemed and settled, one split, one expired and
    cashed out, cash for a homestead, and that homestead's quota from application to use."""
    r = await Recording.open_vouchers(ledger, "vh", households=3, cash=1, held=0)
    leaver = "dev5-vh"
    await ledger.register("county", leaver, "developer")
    await r.admit(leaver)
    await r.leave(leaver)

    voucher = await r.issue()
    redemption = await r.redeem(voucher, 1_000_000)
    await r.settle(redemption, "contract")
    await r.transfer(
        await r.issue(), [([r.buyers[0]], FACE_FEN // 3), ([r.buyers[1]], FACE_FEN - FACE_FEN // 3)]
    )

    await r.set_policy(voucher_validity_months=1)
    short = await r.issue()
    await r.set_policy(voucher_validity_months=24)
    r.past_validity((await r.voucher_row(short))["valid_until"])
    await r.expire(short)
    await r.cash_out(short)

    w = r.take("cash")
    await r.compensate_cash(w)
    quota = await r.confirmed_quota(r.homestead_site(w))
    await r.trade_quota(quota)
    await r.split(quota)
    await r.use_quota(quota)
    assert sorted(r.accepted) == KINDS
    yield r
    await r.close()


def payload_of(m: Recording, kind: str) -> dict[str, Any]:
    return copy.deepcopy(m.accepted[kind][0]["entry"]["payload"])


def key_of(m: Recording, kind: str) -> KeyFile:
    return m.accepted[kind][2]


def first_field(payload: dict[str, Any]) -> str:
    return next(iter(payload))


async def test_every_kind_was_accepted_once(m: Recording) -> None:
    # The base of every mutation below is an entry the rules admitted.
    assert sorted(m.accepted) == KINDS and len(KINDS) == 17


async def test_integers_beyond_the_schema_bounds(m: Recording) -> None:
    items = []
    for kind in KINDS:
        payload = payload_of(m, kind)
        paths = [*integer_paths(payload), (first_field(payload),)]  # and an integer where a string belongs
        for path in paths:
            for value in (10**13 + 1, 2**53 - 1, -1):
                items.append(
                    (
                        f"{kind} {path}={value}",
                        m.fx.sign(key_of(m, kind), kind, replaced(payload, path, value)),
                    )
                )
    await refused_each(m, items, {"payload.invalid"})


async def test_every_amount_kind_has_an_integer(m: Recording) -> None:
    # The bounds above were tried on every money and area field.
    with_integers = {k for k in KINDS if integer_paths(payload_of(m, k))}
    assert with_integers >= {
        "voucher.prices_published",
        "voucher.issued",
        "voucher.cash_compensated",
        "voucher.redeemed",
        "voucher.settled",
        "voucher.transferred",
        "voucher.expired",
        "voucher.cashed_out",
        "quota.accepted",
        "quota.confirmed",
        "quota.proceeds_split",
    }


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
    # A price schedule's zones are keys: NUL in one.
    prices = payload_of(m, "voucher.prices_published")
    prices["prices"] = {f"{zone}\x00": fen for zone, fen in prices["prices"].items()}
    items.append(
        (
            "NUL in a zone",
            m.fx.sign(key_of(m, "voucher.prices_published"), "voucher.prices_published", prices),
        )
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
        name = first_field(payload)
        for value in (nested(40), {name: nested(20)}):
            items.append((kind, m.fx.sign(key_of(m, kind), kind, replaced(payload, (name,), value))))
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
    twice = text.replace('"payload": {', f'"payload": {{"{name}": "V-other", ')
    await refused_request(m, twice.encode(), 400, "request.duplicate_key", kind)
    entry_twice = text.replace('"entry": {', '"entry": {"kind": "voucher.redeemed", ', 1)
    await refused_request(m, entry_twice.encode(), 400, "request.duplicate_key", f"{kind} envelope")


async def test_duplicate_zone_in_a_price_schedule(m: Recording) -> None:
    item = m.accepted["voucher.prices_published"][0]
    text = json.dumps(item, ensure_ascii=False)
    assert text.count('"prices": {') == 1
    twice = text.replace('"prices": {', '"prices": {"plain": 1, ')
    await refused_request(m, twice.encode(), 400, "request.duplicate_key", "a zone priced twice")


async def voucher_rows(m: Recording) -> list[tuple[Any, ...]]:
    assert m.db is not None
    tables = ("vouchers", "voucher_movements", "voucher_redemptions", "land_quotas")
    return [tuple(r) for t in tables for r in await m.db.fetch(f"SELECT * FROM {t} ORDER BY 1, 2")]


async def test_accepted_entries_replayed(m: Recording) -> None:
    """The same signed entry again, alone or twice in a list, answers its first receipt: the
    log holds it once, and no voucher or quota moves again (a redemption is not spent twice)."""
    size, rows = await m.fx.size(), await voucher_rows(m)
    items = [item for kind in KINDS for item in (m.accepted[kind][0],) * 2]
    answers = await m.fx.client.submit_many(items)
    assert [a.get("seq") for a in answers] == [m.accepted[k][1] for k in KINDS for _ in range(2)]
    for kind in KINDS:
        receipt = await m.fx.client.submit(m.accepted[kind][0])
        assert receipt["seq"] == m.accepted[kind][1], kind
    assert await m.fx.size() == size
    assert await voucher_rows(m) == rows


async def test_another_entry_under_an_accepted_id(m: Recording) -> None:
    m.move_to(m.now() + timedelta(seconds=1))
    items = []
    for kind in KINDS:
        item, _, key = m.accepted[kind]
        again = m.fx.sign(key, kind, item["entry"]["payload"], entry_id=item["entry"]["id"])
        assert again["entry"] != item["entry"]  # signed at another time
        items.append((kind, again))
        other_kind = (
            "voucher.developer_left" if kind != "voucher.developer_left" else "voucher.developer_admitted"
        )
        items.append(
            (
                f"{kind} as {other_kind}",
                m.fx.sign(
                    m.key_of("county"), other_kind, {"developer": m.stranger}, entry_id=item["entry"]["id"]
                ),
            )
        )
    problems = await refused_each(m, items, {"entry.id_conflict"})
    assert all(p["status"] == 409 for p in problems), problems


async def test_new_redemption_twice_in_one_list(m: Recording) -> None:
    """One new redemption sent twice in one list is recorded once: the voucher is spent once."""
    voucher = m.accepted["voucher.issued"][0]["entry"]["payload"]["voucher"]
    before = (await m.voucher_row(voucher))["balance_fen"]
    payload = m.redeem_payload(voucher, 1_000, (await m.holders_of(voucher))[0])
    item = m.fx.sign(m.key_of(m.developer), "voucher.redeemed", payload)
    size = await m.fx.size()
    first, second = await m.fx.client.submit_many([item, item])
    assert "seq" in first and second.get("seq") == first["seq"], (first, second)
    assert await m.fx.size() == size + 1
    assert (await m.voucher_row(voucher))["balance_fen"] == before - 1_000
