"""Dividends (``dividend.declared``), in memory: declared out of distributable income, paid
per unit held at the declaration by the largest remainder, summing to the declared amount to
the fen (by property), and each refusal by its code."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.dividends import Dividend
from contracts.shares import COLLECTIVE_HOLDER, ShareHolding
from tests.unit.contracts.harness import DOC, Harness


def declaration(amount: int, distributable: int | None = None, dividend: str = "D-1") -> dict[str, Any]:
    return {
        "dividend": dividend,
        "distributable_fen": amount if distributable is None else distributable,
        "amount_fen": amount,
        "resolution": DOC,
    }


def quantified(
    h: Harness, village: str, labour_years: list[int], collective_units: int | None = 0
) -> list[str]:
    """One household of members with 100 basic units and 10 a labour year (a collective share
    of ``collective_units``, a quarter of the members' when ``None``); returns the parties. A
    holder may hold any part of so small a collective."""
    h.set_policy(holder_share_cap_bp=10_000)
    household, people = h.members(village, len(labour_years))
    h.submit(village, "assets.verified", h.verification_payload())
    payload = h.scheme_payload(
        [(household, p) for p in people],
        labour_years=lambda i: labour_years[i],
        collective_units=collective_units,
    )
    h.submit(village, "shares.quantified", payload)
    return people


def expected_payouts(amount: int, holdings: dict[str, int]) -> dict[str, int]:
    """The payout rule of ``contracts.dividends``, restated with fractions."""
    total = sum(holdings.values())
    exact = {holder: Fraction(amount * units, total) for holder, units in holdings.items()}
    paid = {holder: int(share) for holder, share in exact.items()}  # floors: shares are never negative
    ranked = sorted(holdings, key=lambda holder: (-(exact[holder] - paid[holder]), holder))
    for holder in ranked[: amount - sum(paid.values())]:
        paid[holder] += 1
    return paid


def test_a_dividend_is_paid_per_unit_and_sums_to_the_fen(h: Harness, village: str) -> None:
    members = h.quantified(village)
    changes = h.submit(village, "dividend.declared", declaration(9_999_999, 10_000_000))
    d = changes.one(Dividend)
    assert (d.collective_id, d.distributable_fen, d.amount_fen, d.units) == (
        village,
        10_000_000,
        9_999_999,
        3600,
    )
    assert d.declared_seq == changes.seq and list(d.payouts) == sorted(d.payouts)
    assert sum(fen for _, fen in d.payouts.values()) == 9_999_999
    assert d.payouts[COLLECTIVE_HOLDER][0] == 720
    assert {holder for holder in d.payouts} == {p for _, p in members} | {COLLECTIVE_HOLDER}
    for holder, (units, fen) in d.payouts.items():
        assert fen in (9_999_999 * units // 3600, 9_999_999 * units // 3600 + 1), holder


def test_the_whole_distributable_income_may_be_declared(h: Harness, village: str) -> None:
    quantified(h, village, [0, 1])
    assert h.submit(village, "dividend.declared", declaration(1_000, 1_000)).one(Dividend).amount_fen == 1_000


def test_no_more_than_the_distributable_income(h: Harness, village: str) -> None:
    quantified(h, village, [0, 1])
    h.refused("dividend.over_distributable", village, "dividend.declared", declaration(101, 100))


def test_a_dividend_id_used_twice(h: Harness, village: str) -> None:
    quantified(h, village, [0, 1])
    h.submit(village, "dividend.declared", declaration(100))
    h.refused("dividend.exists", village, "dividend.declared", declaration(100))


def test_no_dividend_before_quantification(h: Harness, village: str) -> None:
    h.members(village, 1)
    h.refused("shares.not_quantified", village, "dividend.declared", declaration(100))


def test_only_a_collective_declares(h: Harness, village: str) -> None:
    quantified(h, village, [0])
    township = h.parents[village]
    assert township is not None
    h.refused("org.not_a_collective", township, "dividend.declared", declaration(100))


def test_equal_remainders_go_by_holder_id(h: Harness, village: str) -> None:
    people = quantified(h, village, [0, 0, 0])
    payouts = h.submit(village, "dividend.declared", declaration(100)).one(Dividend).payouts
    first, *rest = sorted(people)
    assert payouts[first] == [100, 34] and all(payouts[p] == [100, 33] for p in rest)


def test_the_spare_fen_go_to_the_largest_remainders(h: Harness, village: str) -> None:
    people = quantified(h, village, [0, 1, 3])  # 100, 110 and 130 units of 340
    payouts = h.submit(village, "dividend.declared", declaration(1_000)).one(Dividend).payouts
    # exact shares 294.12, 323.53 and 382.35: the one spare fen goes to the 0.53
    assert [payouts[p] for p in people] == [[100, 294], [110, 324], [130, 382]]


def test_a_nothing_declared_pays_nothing(h: Harness, village: str) -> None:
    people = quantified(h, village, [0, 2])
    payouts = h.submit(village, "dividend.declared", declaration(0, 500)).one(Dividend).payouts
    assert {p: fen for p, (_, fen) in payouts.items()} == dict.fromkeys(people, 0)


def test_settled_members_and_income_only_heirs_are_paid(h: Harness, village: str) -> None:
    people = quantified(h, village, [2, 2, 2])
    household = h.row(ShareHolding, village, people[0]).household_id
    assert household is not None
    h.settle(village, household, people)
    h.submit(village, "member.status_changed", {"party": people[2], "reason": "death"})
    heir = h.person(village)
    inheritance = {"deceased": people[2], "heir": heir, "units": 120, "evidence": DOC}
    h.submit(village, "shares.inherited", inheritance)
    assert h.row(ShareHolding, village, heir).income_only is True
    payouts = h.submit(village, "dividend.declared", declaration(3_600)).one(Dividend).payouts
    assert payouts == {people[0]: [120, 1_200], people[1]: [120, 1_200], heir: [120, 1_200]}


def test_a_holder_who_sold_everything_is_not_paid(h: Harness, village: str) -> None:
    people = quantified(h, village, [0] * 24)
    transfer = {"holder": people[0], "to": people[1], "units": 100, "price_fen": 1, "agreement": DOC}
    h.submit(village, "shares.transferred", transfer)
    payouts = h.submit(village, "dividend.declared", declaration(2_400)).one(Dividend).payouts
    assert people[0] not in payouts and payouts[people[1]] == [200, 200]


def test_the_payouts_are_fixed_at_the_declaration(h: Harness, village: str) -> None:
    people = quantified(h, village, [0] * 24)
    before = h.submit(village, "dividend.declared", declaration(2_400)).one(Dividend).payouts
    transfer = {"holder": people[0], "to": people[1], "units": 50, "price_fen": 1, "agreement": DOC}
    h.submit(village, "shares.transferred", transfer)
    assert h.row(Dividend, "D-1").payouts == before
    after = h.submit(village, "dividend.declared", declaration(2_400, dividend="D-2")).one(Dividend).payouts
    assert after[people[0]] == [50, 50] and after[people[1]] == [150, 150]


@settings(max_examples=40)
@given(
    labour_years=st.lists(st.integers(0, 40), min_size=1, max_size=6),
    collective_share=st.booleans(),
    amount=st.integers(0, 10**11),
)
def test_payouts_sum_to_the_amount_by_the_largest_remainder(
    labour_years: list[int], collective_share: bool, amount: int
) -> None:
    h = Harness()
    village = h.collective()
    quantified(h, village, labour_years, collective_units=None if collective_share else 0)
    holdings = {r.holder: r.units for r in h.find(ShareHolding, collective_id=village)}
    d = h.submit(village, "dividend.declared", declaration(amount, amount + 1)).one(Dividend)
    assert sum(fen for _, fen in d.payouts.values()) == amount
    assert d.units == sum(holdings.values())
    assert {holder: fen for holder, (_, fen) in d.payouts.items()} == expected_payouts(amount, holdings)
