"""The house vouchers' rules in memory: the county's price schedules and developer pool, issuance
or cash instead (once per homestead and household), redemption with the month's bonus and staged
settlement, transfer once (whole or split), expiry by the par-share rule and cash-out: every
refusal code of the eleven kinds by name, and what each accepted record leaves.

Most tests start from the prepared situation of a kind's example (``situations.py``): the
examples' household withdrew its homestead for a voucher, the county published its prices from 1
April 2026, its developer is in the pool with a project, and the voucher of 468,000 yuan was
issued on 15 April 2026 (valid to 14 April 2028)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contracts import examples as ex
from contracts import examples_vouchers as ev
from contracts.homesteads import Homestead
from contracts.households import HouseholdMember
from contracts.vouchers.arithmetic import (
    add_months,
    bonus_bp,
    expiry_cash,
    face_value,
    month_of_voucher,
    stage_amounts,
    valid_until,
)
from contracts.vouchers.tables import (
    HomesteadCompensation,
    PoolDeveloper,
    PoolProject,
    PriceSchedule,
    Purchase,
    Redemption,
    Voucher,
    VoucherMovement,
)
from ledger.errors import Category
from tests.registry_support import hexdigest
from tests.unit.contracts.exchange_support import Market
from tests.unit.contracts.harness import COUNTY, Harness
from tests.unit.contracts.situations import Situation, prepared

HA = ev.HOUSING_AUTHORITY
DEV = ev.DEVELOPER
CST = timedelta(hours=8)


def at_local(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock China time on ``day``, as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - CST


def voucher(s: Situation, voucher_id: str = ev.VOUCHER) -> Voucher:
    return s.h.row(Voucher, voucher_id)


def movements(s: Situation, voucher_id: str = ev.VOUCHER) -> list[VoucherMovement]:
    return sorted(s.h.find(VoucherMovement, voucher_id=voucher_id), key=lambda m: m.seq)


def withdrawn(s: Situation, compensation: str = "voucher", area: int = 150) -> tuple[str, list[str], str]:
    """Another household of the village, admitted and confirmed, whose homestead of ``area`` m²
    (plain zone) was withdrawn for ``compensation``: (household, people, homestead)."""
    household, people = s.h.members(ex.VILLAGE, 2)
    _, homestead = s.h.homestead(ex.VILLAGE, household, area=area, zone="plain")
    s.h.submit(
        ex.VILLAGE,
        "homestead.withdrawn",
        {
            "homestead": homestead,
            "compensation": compensation,
            "compensation_fen": area * 160_000,
            "agreement": hexdigest(f"withdrawal of {homestead}"),
        },
    )
    return household, people, homestead


def issuance(
    voucher_id: str, homestead: str, holders: list[str], area: int = 150, **over: Any
) -> dict[str, Any]:
    return {
        "voucher": voucher_id,
        "homestead": homestead,
        "holders": holders,
        "schedule": ev.SCHEDULE,
        "appraisal": hexdigest(f"appraisal of {homestead}"),
        "appraisal_fen": 5_000_000,
        "face_fen": area * 160_000 + 5_000_000,
        **over,
    }


def redemption(n: int, amount: int, **over: Any) -> dict[str, Any]:
    """The example's redemption under another id and purchase contract, of ``amount`` fen."""
    return {
        **ex.example("voucher.redeemed"),
        "redemption": f"FPDH-T-{n}",
        "purchase_contract": hexdigest(f"purchase {n}"),
        "amount_fen": amount,
        **over,
    }


# Arithmetic


def test_the_arithmetic_of_the_spec() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert valid_until(date(2026, 4, 15), 24) == date(2028, 4, 14)
    issued = date(2026, 1, 31)
    assert [month_of_voucher(issued, d) for d in (issued, date(2026, 2, 27), date(2026, 2, 28))] == [1, 1, 2]
    assert month_of_voucher(date(2026, 4, 15), date(2027, 4, 14)) == 12
    assert month_of_voucher(date(2026, 4, 15), date(2027, 4, 15)) == 13
    tiers = [[24, 200], [12, 500]]  # in any order: sorted by bound
    assert [bonus_bp(tiers, n) for n in (1, 12, 13, 24, 25)] == [500, 500, 200, 200, 0]
    assert stage_amounts(101, [("contract", 3000), ("registration", 4000), ("handover", 3000)]) == [
        ("contract", 30),
        ("registration", 40),
        ("handover", 31),
    ]
    assert expiry_cash(100_000, 85_000, 4_250, 15_000, 8500) == 15_000  # 85 % used: at par
    assert expiry_cash(100_000, 84_999, 4_249, 15_001, 8500) == 15_001 - 4_249 * 15_001 // 100_000
    assert expiry_cash(100_000, 0, 0, 100_000, 8500) == 100_000
    assert face_value(180, ev.PRICES_FEN_PER_M2, "plain", ev.APPRAISAL_FEN) == ev.FACE_FEN


def test_the_examples_add_up() -> None:
    assert ev.BONUS_FEN == ev.REDEEMED_FEN * 500 // 10_000
    assert ev.CONTRACT_STAGE_FEN == (ev.REDEEMED_FEN + ev.BONUS_FEN) * 3000 // 10_000
    left = ev.FACE_FEN - ev.REDEEMED_FEN
    assert expiry_cash(ev.FACE_FEN, ev.REDEEMED_FEN, ev.BONUS_FEN, left, 8500) == ev.EXPIRY_CASH_FEN
    assert ev.SPLIT_TO_HEAD_FEN + ev.SPLIT_TO_SPOUSE_FEN == ev.FACE_FEN
    assert ex.example("homestead.withdrawn")["compensation_fen"] == ev.FACE_FEN


# 1. voucher.prices_published


def test_a_price_schedule_is_published_for_today_or_later() -> None:
    s = prepared("voucher.prices_published")
    row = s.example().one(PriceSchedule)
    assert (row.county_id, row.effective_from, row.prices["plain"]) == (COUNTY, date(2026, 4, 1), 160_000)
    s.h.refused(
        "voucher.schedule_exists", COUNTY, "voucher.prices_published", ex.example("voucher.prices_published")
    )
    again = {**ex.example("voucher.prices_published"), "schedule": "JG-2"}
    s.h.refused("voucher.effective_date_taken", COUNTY, "voucher.prices_published", again)
    backdated = {**again, "effective_from": (s.h.today() - timedelta(days=1)).isoformat()}
    s.h.refused("voucher.schedule_backdated", COUNTY, "voucher.prices_published", backdated)
    s.h.submit(COUNTY, "voucher.prices_published", {**again, "effective_from": s.h.today().isoformat()})


@pytest.mark.parametrize(
    "prices", [{}, {"plain": 0}, {"downtown": 100_000}, {"plain": 10**7 + 1}, {"plain": "160000"}]
)
def test_a_schedule_prices_at_least_one_known_zone_in_whole_fen(prices: dict[str, Any]) -> None:
    s = prepared("voucher.prices_published")
    payload = {**ex.example("voucher.prices_published"), "prices": prices}
    assert (
        s.h.refused("payload.invalid", COUNTY, "voucher.prices_published", payload).category
        == Category.INVALID
    )


def test_only_a_county_publishes_prices() -> None:
    s = prepared("voucher.prices_published")
    refusal = s.h.refused(
        "voucher.not_county", HA, "voucher.prices_published", ex.example("voucher.prices_published")
    )
    assert refusal.category == Category.FORBIDDEN


# 2-4. The developer pool


def test_a_developer_is_admitted_leaves_and_is_admitted_again() -> None:
    s = prepared("voucher.developer_admitted")
    row = s.example().one(PoolDeveloper)
    assert (row.developer_id, row.county_id, row.status, row.left_seq) == (DEV, COUNTY, "in_pool", None)
    s.h.refused("voucher.already_in_pool", COUNTY, "voucher.developer_admitted", {"developer": DEV})
    left = s.submit("voucher.developer_left", COUNTY).one(PoolDeveloper)
    assert (left.status, left.left_seq) == ("left", s.h.size - 1)
    s.h.refused("voucher.developer_not_in_pool", COUNTY, "voucher.developer_left", {"developer": DEV})
    back = s.example().one(PoolDeveloper)
    assert (back.status, back.left_seq) == ("in_pool", None)


@pytest.mark.parametrize("org", [ex.TOWNSHIP, HA, "no-such-org"])
def test_only_a_developer_of_the_county_is_admitted(org: str) -> None:
    s = prepared("voucher.developer_admitted")
    s.h.refused("voucher.not_a_developer", COUNTY, "voucher.developer_admitted", {"developer": org})


def test_a_developer_takes_itself_out_of_the_pool_and_no_other() -> None:
    s = prepared("voucher.developer_left")
    other = s.h.developer("developer-other")
    s.h.submit(COUNTY, "voucher.developer_admitted", {"developer": other})
    refusal = s.h.refused("voucher.not_developer", other, "voucher.developer_left", {"developer": DEV})
    assert refusal.category == Category.FORBIDDEN
    assert s.h.submit(DEV, "voucher.developer_left", {"developer": DEV}).one(PoolDeveloper).status == "left"
    s.h.refused("voucher.developer_not_in_pool", DEV, "voucher.developer_left", {"developer": DEV})
    refusal = s.h.refused("voucher.not_county", HA, "voucher.developer_left", {"developer": other})
    assert refusal.category == Category.FORBIDDEN


def test_a_project_of_a_pool_developer_by_its_presale_permit() -> None:
    s = prepared("voucher.project_registered")
    row = s.example().one(PoolProject)
    assert (row.developer_id, row.county_id, row.area_code) == (DEV, COUNTY, ev.PROJECT_AREA_CODE)
    payload = ex.example("voucher.project_registered")
    s.h.refused("voucher.project_exists", COUNTY, "voucher.project_registered", payload)
    s.h.refused("voucher.permit_taken", COUNTY, "voucher.project_registered", {**payload, "project": "XM-2"})
    for code in ("3710031", "37100310", "3710031060011"[:11]):
        bad = {**payload, "project": "XM-3", "presale_permit": "WDFY-2026-019", "area_code": code}
        s.h.refused("voucher.invalid_area_code", COUNTY, "voucher.project_registered", bad)
    other = s.h.developer("developer-outside-pool")
    outside = {**payload, "project": "XM-4", "developer": other, "presale_permit": "WDFY-2026-020"}
    s.h.refused("voucher.developer_not_in_pool", COUNTY, "voucher.project_registered", outside)
    s.h.submit(COUNTY, "voucher.developer_left", {"developer": DEV})
    after = {**payload, "project": "XM-5", "presale_permit": "WDFY-2026-021"}
    s.h.refused("voucher.developer_not_in_pool", COUNTY, "voucher.project_registered", after)


# 5. voucher.issued


def test_a_voucher_is_issued_for_a_withdrawn_homestead_with_the_terms_in_force() -> None:
    s = prepared("voucher.issued")
    changes = s.example()
    v = changes.one(Voucher)
    assert (v.household_id, v.homestead_id, v.holders) == (ex.HOUSEHOLD, ex.HOMESTEAD, [ex.HEAD, ex.SPOUSE])
    assert (v.county_id, v.township_id, v.collective_id) == (COUNTY, ex.TOWNSHIP, ex.VILLAGE)
    assert (v.face_fen, v.balance_fen, v.used_fen, v.bonus_fen, v.transferred_fen) == (
        ev.FACE_FEN,
        ev.FACE_FEN,
        0,
        0,
        0,
    )
    assert (v.area_m2, v.zone, v.price_fen_per_m2, v.appraisal_fen) == (
        180,
        "plain",
        160_000,
        ev.APPRAISAL_FEN,
    )
    assert (v.issued_on, v.valid_until, v.status, v.generation, v.parent_id) == (
        date(2026, 4, 15),
        date(2028, 4, 14),
        "active",
        0,
        None,
    )
    assert (v.bonus_tiers, v.transfers_allowed, v.par_share_bp, v.floor_m2_per_person) == (
        [[12, 500], [24, 200]],
        1,
        8500,
        35,
    )
    assert v.stages == [["contract", 3000], ["registration", 4000], ["handover", 3000]]
    [m] = changes.puts(VoucherMovement)
    assert (m.kind, m.amount_fen, m.balance_fen, m.ref) == ("voucher.issued", ev.FACE_FEN, ev.FACE_FEN, None)
    c = changes.one(HomesteadCompensation)
    assert (c.homestead_id, c.household_id, c.choice, c.voucher_id) == (
        ex.HOMESTEAD,
        ex.HOUSEHOLD,
        "voucher",
        ev.VOUCHER,
    )


def test_one_voucher_per_withdrawn_homestead() -> None:
    s = prepared("voucher.issued")
    s.example()
    s.h.refused("voucher.exists", HA, "voucher.issued", ex.example("voucher.issued"))
    second = {**ex.example("voucher.issued"), "voucher": "FP-2"}
    s.h.refused("voucher.already_compensated", HA, "voucher.issued", second)


def test_no_voucher_without_a_recorded_withdrawal() -> None:
    s = prepared("voucher.issued")
    household, people = s.h.members(ex.VILLAGE, 2)
    _, held = s.h.homestead(ex.VILLAGE, household, area=150)
    s.h.refused("voucher.no_withdrawal", HA, "voucher.issued", issuance("FP-2", held, people))
    s.h.refused("voucher.no_withdrawal", HA, "voucher.issued", issuance("FP-2", "ZJD-NONE", people))


def test_a_household_that_chose_cash_gets_no_voucher() -> None:
    s = prepared("voucher.cash_compensated")
    s.h.refused("voucher.household_chose_cash", HA, "voucher.issued", ex.example("voucher.issued"))


def test_the_schedule_is_the_countys_in_force_on_the_day_of_issue() -> None:
    s = prepared("voucher.issued")
    payload = ex.example("voucher.issued")
    s.h.refused("voucher.unknown_schedule", HA, "voucher.issued", {**payload, "schedule": "JG-NONE"})
    later = (s.h.today() + timedelta(days=10)).isoformat()
    s.h.submit(
        COUNTY,
        "voucher.prices_published",
        {**ex.example("voucher.prices_published"), "schedule": "JG-2", "effective_from": later},
    )
    s.h.refused("voucher.schedule_not_in_force", HA, "voucher.issued", {**payload, "schedule": "JG-2"})
    s.h.clock.set(at_local(date.fromisoformat(later)))
    s.h.refused("voucher.schedule_not_in_force", HA, "voucher.issued", payload)  # superseded
    s.h.submit(HA, "voucher.issued", {**payload, "schedule": "JG-2"})


def test_a_zone_the_schedule_does_not_price() -> None:
    s = prepared("voucher.issued")
    today = s.h.today().isoformat()
    s.h.submit(
        COUNTY,
        "voucher.prices_published",
        {"schedule": "JG-2", "effective_from": today, "prices": {"suburb": 200_000}},
    )
    payload = {**ex.example("voucher.issued"), "schedule": "JG-2"}
    s.h.refused("voucher.zone_not_priced", HA, "voucher.issued", payload)


@pytest.mark.parametrize("face", [ev.FACE_FEN - 1, ev.FACE_FEN + 1, 28_800_000])
def test_a_face_value_that_does_not_match_the_schedule(face: int) -> None:
    s = prepared("voucher.issued")
    s.h.refused(
        "voucher.face_value_mismatch",
        HA,
        "voucher.issued",
        {**ex.example("voucher.issued"), "face_fen": face},
    )


def test_holders_are_registered_members_of_the_household_each_once() -> None:
    s = prepared("voucher.issued")
    payload = ex.example("voucher.issued")
    for holders in ([ex.HEAD, ex.NEIGHBOUR_HEAD], [ex.GRANDCHILD], [s.h.new_id()]):
        s.h.refused("voucher.holder_not_of_household", HA, "voucher.issued", {**payload, "holders": holders})
    s.h.refused("payload.invalid", HA, "voucher.issued", {**payload, "holders": [ex.HEAD, ex.HEAD]})
    s.h.refused("payload.invalid", HA, "voucher.issued", {**payload, "holders": []})


@pytest.mark.parametrize("org_type", ["county", "developer", "village_collective"])
def test_only_a_housing_authority_issues(org_type: str) -> None:
    s = prepared("voucher.issued")
    refusal = s.h.refused(
        "voucher.not_housing_authority", s.orgs[org_type], "voucher.issued", ex.example("voucher.issued")
    )
    assert refusal.category == Category.FORBIDDEN


def test_a_later_policy_never_alters_an_issued_voucher() -> None:
    s = prepared("voucher.redeemed")
    s.h.set_policy(
        voucher_bonus_bp_by_month=[[24, 1000]], voucher_transfers_allowed=0, voucher_par_share_bp=5000
    )
    v = voucher(s)
    assert (v.bonus_tiers, v.transfers_allowed, v.par_share_bp) == ([[12, 500], [24, 200]], 1, 8500)
    assert s.example().one(Redemption).bonus_bp == 500
    # A voucher issued after the change takes the new terms.
    _, people, homestead = withdrawn(s)
    new = s.h.submit(HA, "voucher.issued", issuance("FP-2", homestead, people)).one(Voucher)
    assert (new.bonus_tiers, new.transfers_allowed, new.par_share_bp) == ([[24, 1000]], 0, 5000)


# 5-6. An exchange transfer, and cash


def exchange_transferred(h: Harness) -> tuple[str, str, list[str]]:
    """A settled household's homestead sold on the exchange to a member household, and the
    county's prices in force: (homestead, seller household, seller's people)."""
    m = Market.build(h, buyers=0)
    seller, homestead = h.homestead(m.village)  # 150 m², plain
    people = [x.party_id for x in h.find(HouseholdMember, household_id=seller)]
    buyer_household, buyer_people = h.members(m.village, 1)
    h.settle(m.village, seller, people)
    right = {"type": "homestead", "homestead": homestead}
    h.submit(
        m.exchange,
        "exchange.listed",
        m.listing_payload("H-1", right=right, price_unit="total", reserve_fen=5_000_000),
    )
    number = m.register("H-1", buyer_people[0])
    m.open_bidding("H-1")
    m.bid("H-1", number, 5_000_000)
    m.after_close("H-1")
    h.submit(m.exchange, "exchange.awarded", {"listing": "H-1", "bidder": number, "amount_fen": 5_000_000})
    h.submit(m.exchange, "exchange.contract_signed", {"listing": "H-1", "contract": hexdigest("contract")})
    row = m.listing("H-1")
    assert row.value_fen is not None and row.buyer_fee_fen is not None
    due = row.value_fen - m.bidder("H-1", number).deposit_fen + row.buyer_fee_fen
    h.submit(
        m.exchange,
        "exchange.payment_confirmed",
        {"listing": "H-1", "amount_fen": due, "bank_reference": hexdigest("pay")},
    )
    h.submit(m.exchange, "exchange.certificate_issued", {"listing": "H-1", "certificate_no": "JY-H-1"})
    assert h.row(Homestead, homestead).household_id == buyer_household
    h.submit(
        COUNTY,
        "voucher.prices_published",
        {**ex.example("voucher.prices_published"), "effective_from": h.today().isoformat()},
    )
    return homestead, seller, people


def test_an_exchange_transfer_compensates_the_seller_once_voucher_or_cash(h: Harness) -> None:
    homestead, seller, people = exchange_transferred(h)
    authority = h.housing_authority(HA)
    v = h.submit(authority, "voucher.issued", issuance("FP-X", homestead, people[:1])).one(Voucher)
    assert (v.household_id, v.homestead_id) == (seller, homestead)
    cash = {
        "homestead": homestead,
        "schedule": ev.SCHEDULE,
        "appraisal": hexdigest(f"appraisal of {homestead}"),
        "appraisal_fen": 5_000_000,
        "amount_fen": 150 * 160_000 + 5_000_000,
        "payment": hexdigest("payment"),
    }
    h.refused("voucher.already_compensated", authority, "voucher.cash_compensated", cash)
    h.refused(
        "voucher.already_compensated", authority, "voucher.issued", issuance("FP-Y", homestead, people[:1])
    )


def test_an_exchange_transfer_may_take_cash_then_no_voucher(h: Harness) -> None:
    homestead, seller, people = exchange_transferred(h)
    authority = h.housing_authority(HA)
    cash = {
        "homestead": homestead,
        "schedule": ev.SCHEDULE,
        "appraisal": hexdigest("appraisal"),
        "appraisal_fen": 0,
        "amount_fen": 150 * 160_000,
        "payment": hexdigest("payment"),
    }
    c = h.submit(authority, "voucher.cash_compensated", cash).one(HomesteadCompensation)
    assert (c.household_id, c.choice, c.amount_fen, c.voucher_id) == (seller, "cash", 150 * 160_000, None)
    h.refused(
        "voucher.already_compensated", authority, "voucher.issued", issuance("FP-X", homestead, people[:1])
    )


def test_cash_instead_of_a_voucher_once() -> None:
    s = prepared("voucher.cash_compensated")
    c = s.example().one(HomesteadCompensation)
    assert (c.household_id, c.choice, c.amount_fen) == (ex.HOUSEHOLD, "cash", ev.FACE_FEN)
    s.h.refused(
        "voucher.already_compensated", HA, "voucher.cash_compensated", ex.example("voucher.cash_compensated")
    )


def test_cash_is_refused_where_the_household_chose_a_voucher_or_nothing_was_withdrawn() -> None:
    s = prepared("voucher.issued")
    payload = ex.example("voucher.cash_compensated")
    s.h.refused("voucher.household_chose_voucher", HA, "voucher.cash_compensated", payload)
    household, _ = s.h.members(ex.VILLAGE, 1)
    _, held = s.h.homestead(ex.VILLAGE, household)
    s.h.refused("voucher.no_withdrawal", HA, "voucher.cash_compensated", {**payload, "homestead": held})


def test_cash_is_computed_as_the_face_would_be() -> None:
    s = prepared("voucher.cash_compensated")
    payload = ex.example("voucher.cash_compensated")
    s.h.refused(
        "voucher.face_value_mismatch",
        HA,
        "voucher.cash_compensated",
        {**payload, "amount_fen": ev.FACE_FEN - 1},
    )
    s.h.refused(
        "voucher.unknown_schedule", HA, "voucher.cash_compensated", {**payload, "schedule": "JG-NONE"}
    )
    refusal = s.h.refused("voucher.not_housing_authority", COUNTY, "voucher.cash_compensated", payload)
    assert refusal.category == Category.FORBIDDEN


# 7. voucher.redeemed


def test_a_redemption_takes_part_of_the_balance_with_the_months_bonus() -> None:
    s = prepared("voucher.redeemed")
    changes = s.example()
    r = changes.one(Redemption)
    assert (r.amount_fen, r.month_of_voucher, r.bonus_bp, r.bonus_fen, r.value_fen) == (
        ev.REDEEMED_FEN,
        2,
        500,
        ev.BONUS_FEN,
        ev.REDEEMED_FEN + ev.BONUS_FEN,
    )
    assert (r.developer_id, r.project_id, r.county_id, r.holder, r.settled_stages) == (
        DEV,
        ev.PROJECT,
        COUNTY,
        ex.HEAD,
        0,
    )
    v = changes.one(Voucher)
    left = ev.FACE_FEN - ev.REDEEMED_FEN
    assert (v.used_fen, v.bonus_fen, v.balance_fen, v.redemptions, v.status) == (
        ev.REDEEMED_FEN,
        ev.BONUS_FEN,
        left,
        1,
        "active",
    )
    [m] = changes.puts(VoucherMovement)
    assert (m.kind, m.amount_fen, m.bonus_fen, m.balance_fen, m.ref) == (
        "voucher.redeemed",
        ev.REDEEMED_FEN,
        ev.BONUS_FEN,
        left,
        ev.REDEMPTION,
    )
    p = changes.one(Purchase)
    assert (p.price_fen, p.applied_fen) == (ev.PRICE_FEN, ev.REDEEMED_FEN + ev.BONUS_FEN)


def test_the_bonus_falls_to_the_second_tier_in_month_13_and_to_none_after_the_last() -> None:
    s = prepared("voucher.redeemed")
    s.h.clock.set(at_local(date(2027, 4, 15)))  # month 13
    r = s.h.submit(DEV, "voucher.redeemed", redemption(1, 1_000_001)).one(Redemption)
    assert (r.month_of_voucher, r.bonus_bp, r.bonus_fen) == (13, 200, 20_000)  # rounded down
    s.h.clock.set(at_local(date(2028, 4, 14)))  # the last valid day, month 24
    assert s.h.submit(DEV, "voucher.redeemed", redemption(2, 100)).one(Redemption).bonus_bp == 200


def test_a_redemption_of_the_whole_balance_spends_the_voucher() -> None:
    s = prepared("voucher.redeemed")
    v = s.h.submit(DEV, "voucher.redeemed", redemption(1, ev.FACE_FEN, price_fen=10**11)).one(Voucher)
    assert (v.balance_fen, v.status, v.ended_seq) == (0, "spent", s.h.size - 1)
    s.h.refused("voucher.not_active", DEV, "voucher.redeemed", redemption(2, 1))


def test_never_beyond_the_balance() -> None:
    s = prepared("voucher.redeemed")
    s.example()
    left = ev.FACE_FEN - ev.REDEEMED_FEN
    s.h.refused("voucher.beyond_balance", DEV, "voucher.redeemed", redemption(1, left + 1, price_fen=10**11))
    s.h.submit(DEV, "voucher.redeemed", redemption(2, left, price_fen=10**11))
    assert voucher(s).balance_fen == 0
    assert [m.balance_fen for m in movements(s)] == [ev.FACE_FEN, left, 0]


def test_never_beyond_the_purchase_price_and_one_price_per_contract() -> None:
    s = prepared("voucher.redeemed")
    s.example()  # 315,000 yuan toward 980,000
    same = {"purchase_contract": ex.example("voucher.redeemed")["purchase_contract"]}
    s.h.refused(
        "voucher.purchase_price_differs",
        DEV,
        "voucher.redeemed",
        redemption(1, 1_000, price_fen=ev.PRICE_FEN + 1, **same),
    )
    # A flat of 10,000 yuan: 9,523.81 yuan with the 5 % bonus pays exactly its price, a fen more
    # pays beyond it.
    flat = {"purchase_contract": hexdigest("a parking space"), "price_fen": 1_000_000}
    s.h.refused("voucher.beyond_price", DEV, "voucher.redeemed", redemption(2, 952_382, **flat))
    r = s.h.submit(DEV, "voucher.redeemed", redemption(3, 952_381, **flat)).one(Redemption)
    assert (r.bonus_fen, r.value_fen) == (47_619, 1_000_000)
    s.h.refused("voucher.beyond_price", DEV, "voucher.redeemed", redemption(4, 1, **flat))
    s.h.clock.set(at_local(date(2027, 6, 1)))  # 2 % now
    r = s.h.submit(DEV, "voucher.redeemed", redemption(5, 1_000_000, **same)).one(Redemption)
    assert (
        s.h.row(Purchase, DEV, same["purchase_contract"]).applied_fen
        == 31_500_000 + r.value_fen
        == 32_520_000
    )


def test_only_before_expiry() -> None:
    s = prepared("voucher.redeemed")
    s.h.clock.set(at_local(date(2028, 4, 15)))
    s.h.refused("voucher.expired", DEV, "voucher.redeemed", ex.example("voucher.redeemed"))
    s.h.submit(HA, "voucher.expired", {"voucher": ev.VOUCHER, "cash_fen": ev.FACE_FEN})
    s.h.refused("voucher.expired", DEV, "voucher.redeemed", ex.example("voucher.redeemed"))


def test_only_a_holder_of_the_voucher() -> None:
    s = prepared("voucher.redeemed")
    for holder in (ex.SON, ex.NEIGHBOUR_HEAD):
        s.h.refused(
            "voucher.not_holder",
            DEV,
            "voucher.redeemed",
            {**ex.example("voucher.redeemed"), "holder": holder},
        )
    s.h.submit(DEV, "voucher.redeemed", redemption(1, 1_000, holder=ex.SPOUSE))


def test_only_a_developer_of_the_pool_on_its_own_project_in_the_county() -> None:
    s = prepared("voucher.redeemed")
    payload = ex.example("voucher.redeemed")
    outsider = s.h.developer("developer-outside")
    s.h.refused("voucher.developer_not_in_pool", outsider, "voucher.redeemed", payload)
    s.h.submit(COUNTY, "voucher.developer_admitted", {"developer": outsider})
    s.h.refused("voucher.project_not_developers", outsider, "voucher.redeemed", payload)
    s.h.refused("voucher.unknown_project", DEV, "voucher.redeemed", {**payload, "project": "XM-NONE"})
    city = {
        "project": "XM-CITY",
        "developer": DEV,
        "presale_permit": "HCYS-2026-007",
        "area_code": "371002001",
    }
    s.h.submit(COUNTY, "voucher.project_registered", city)  # a city-wide pool's project next door
    s.h.refused("voucher.outside_county", DEV, "voucher.redeemed", {**payload, "project": "XM-CITY"})
    s.h.submit(DEV, "voucher.developer_left", {"developer": DEV})
    s.h.refused("voucher.developer_not_in_pool", DEV, "voucher.redeemed", payload)


def test_an_unknown_voucher_and_a_redemption_id_used() -> None:
    s = prepared("voucher.redeemed")
    payload = ex.example("voucher.redeemed")
    refusal = s.h.refused(
        "voucher.unknown_voucher", DEV, "voucher.redeemed", {**payload, "voucher": "FP-NONE"}
    )
    assert refusal.category == Category.NOT_FOUND
    s.example()
    s.h.refused("voucher.redemption_exists", DEV, "voucher.redeemed", {**payload, "amount_fen": 1})


@pytest.mark.parametrize("org_type", ["county", "housing_authority", "exchange_center"])
def test_only_a_developer_redeems(org_type: str) -> None:
    s = prepared("voucher.redeemed")
    refusal = s.h.refused(
        "voucher.not_developer", s.orgs[org_type], "voucher.redeemed", ex.example("voucher.redeemed")
    )
    assert refusal.category == Category.FORBIDDEN


# 8. voucher.settled


def test_the_stages_in_order_each_once_summing_to_the_value() -> None:
    s = prepared("voucher.settled")
    value = ev.REDEEMED_FEN + ev.BONUS_FEN
    pay = {"redemption": ev.REDEMPTION, "payment": hexdigest("payment")}
    s.h.refused(
        "voucher.stage_out_of_order",
        HA,
        "voucher.settled",
        {**pay, "stage": "registration", "amount_fen": 12_600_000},
    )
    s.h.refused(
        "voucher.settlement_mismatch",
        HA,
        "voucher.settled",
        {**pay, "stage": "contract", "amount_fen": ev.CONTRACT_STAGE_FEN + 1},
    )
    r = s.example().one(Redemption)
    assert (r.settled_stages, r.settled_fen) == (1, ev.CONTRACT_STAGE_FEN)
    s.h.refused("voucher.stage_settled", HA, "voucher.settled", ex.example("voucher.settled"))
    s.h.submit(HA, "voucher.settled", {**pay, "stage": "registration", "amount_fen": 12_600_000})
    s.h.submit(
        HA, "voucher.settled", {**pay, "stage": "handover", "amount_fen": value - 9_450_000 - 12_600_000}
    )
    assert s.h.row(Redemption, ev.REDEMPTION).settled_fen == value
    s.h.refused("voucher.stage_settled", HA, "voucher.settled", {**pay, "stage": "handover", "amount_fen": 0})


def test_a_stage_the_vouchers_terms_do_not_have() -> None:
    s = prepared("voucher.issued")
    s.h.set_policy(voucher_settlement_stages=[["contract", 5000], ["handover", 5000]])
    s.example()
    s.h.submit(COUNTY, "voucher.developer_admitted", {"developer": DEV})
    s.h.submit(COUNTY, "voucher.project_registered", ex.example("voucher.project_registered"))
    s.h.submit(DEV, "voucher.redeemed", ex.example("voucher.redeemed"))
    payload = {**ex.example("voucher.settled"), "stage": "registration"}
    s.h.refused("voucher.unknown_stage", HA, "voucher.settled", payload)
    s.h.submit(HA, "voucher.settled", {**payload, "stage": "contract", "amount_fen": 15_750_000})


def test_an_unknown_redemption_and_a_signer_who_is_no_housing_authority() -> None:
    s = prepared("voucher.settled")
    refusal = s.h.refused(
        "voucher.unknown_redemption",
        HA,
        "voucher.settled",
        {**ex.example("voucher.settled"), "redemption": "X"},
    )
    assert refusal.category == Category.NOT_FOUND
    refusal = s.h.refused(
        "voucher.not_housing_authority", DEV, "voucher.settled", ex.example("voucher.settled")
    )
    assert refusal.category == Category.FORBIDDEN


# 9. voucher.transferred


def test_a_voucher_split_between_two_transferees_keeps_its_terms_and_lineage() -> None:
    s = prepared("voucher.transferred")
    changes = s.example()
    parent = s.h.row(Voucher, ev.VOUCHER)
    assert (parent.status, parent.balance_fen, parent.transferred_fen, parent.ended_seq) == (
        "transferred",
        0,
        ev.FACE_FEN,
        changes.seq,
    )
    children = sorted(s.h.find(Voucher, parent_id=ev.VOUCHER), key=lambda v: v.id)
    assert [(c.id, c.holders, c.face_fen, c.balance_fen) for c in children] == [
        (f"{ev.VOUCHER}-1", [ex.NEIGHBOUR_HEAD], ev.SPLIT_TO_HEAD_FEN, ev.SPLIT_TO_HEAD_FEN),
        (f"{ev.VOUCHER}-2", [ex.NEIGHBOUR_SPOUSE], ev.SPLIT_TO_SPOUSE_FEN, ev.SPLIT_TO_SPOUSE_FEN),
    ]
    for c in children:
        assert (c.generation, c.issued_on, c.valid_until, c.household_id, c.homestead_id) == (
            1,
            parent.issued_on,
            parent.valid_until,
            ex.HOUSEHOLD,
            ex.HOMESTEAD,
        )
        assert (c.bonus_tiers, c.stages, c.par_share_bp, c.status) == (
            parent.bonus_tiers,
            parent.stages,
            parent.par_share_bp,
            "active",
        )
        [m] = movements(s, c.id)
        assert (m.kind, m.amount_fen, m.balance_fen, m.ref) == (
            "voucher.transferred",
            c.face_fen,
            c.face_fen,
            ev.VOUCHER,
        )
    out = movements(s)[-1]
    assert (out.amount_fen, out.balance_fen, out.ref) == (ev.FACE_FEN, 0, f"{ev.VOUCHER}-1,{ev.VOUCHER}-2")
    s.h.refused("voucher.not_active", HA, "voucher.transferred", ex.example("voucher.transferred"))


def test_a_transferred_voucher_is_never_transferred_again() -> None:
    s = prepared("voucher.transferred")
    s.example()
    again = {
        **ex.example("voucher.transferred"),
        "voucher": f"{ev.VOUCHER}-1",
        "parts": [{"voucher": "FP-3", "holders": [ex.SON], "amount_fen": ev.SPLIT_TO_HEAD_FEN}],
    }
    s.h.refused("voucher.transferred_again", HA, "voucher.transferred", again)


def test_no_transfer_where_the_terms_allow_none() -> None:
    s = prepared("voucher.issued")
    s.h.set_policy(voucher_transfers_allowed=0)
    s.example()
    s.h.refused("voucher.transfer_not_allowed", HA, "voucher.transferred", ex.example("voucher.transferred"))


def test_the_household_keeps_its_floor_area_per_person() -> None:
    s = prepared("voucher.transferred")
    short = {**ex.example("voucher.transferred"), "household_floor_area_m2": 104}  # 3 members × 35
    s.h.refused("voucher.floor_area_short", HA, "voucher.transferred", short)
    s.h.submit(HA, "voucher.transferred", {**short, "household_floor_area_m2": 105})


def test_the_parts_sum_to_the_balance_under_new_ids_of_registered_parties() -> None:
    s = prepared("voucher.transferred")
    payload = ex.example("voucher.transferred")
    parts = payload["parts"]
    uneven = [{**parts[0], "amount_fen": parts[0]["amount_fen"] - 1}, parts[1]]
    s.h.refused("voucher.parts_not_summing", HA, "voucher.transferred", {**payload, "parts": uneven})
    twice = [parts[0], {**parts[1], "voucher": parts[0]["voucher"]}]
    s.h.refused("voucher.exists", HA, "voucher.transferred", {**payload, "parts": twice})
    itself = [parts[0], {**parts[1], "voucher": ev.VOUCHER}]
    s.h.refused("voucher.exists", HA, "voucher.transferred", {**payload, "parts": itself})
    stranger = [parts[0], {**parts[1], "holders": [s.h.new_id()]}]
    s.h.refused("voucher.unknown_holder", HA, "voucher.transferred", {**payload, "parts": stranger})
    _, people, homestead = withdrawn(s)
    s.h.submit(HA, "voucher.issued", issuance("FP-2", homestead, people))
    taken = [parts[0], {**parts[1], "voucher": "FP-2"}]
    s.h.refused("voucher.exists", HA, "voucher.transferred", {**payload, "parts": taken})


def test_a_partly_used_voucher_passes_on_its_balance_and_not_after_expiry() -> None:
    s = prepared("voucher.settled")  # 300,000 yuan used
    left = ev.FACE_FEN - ev.REDEEMED_FEN
    payload = {
        **ex.example("voucher.transferred"),
        "parts": [{"voucher": "FP-C", "holders": [ex.NEIGHBOUR_HEAD], "amount_fen": left}],
    }
    s.h.clock.set(at_local(date(2028, 4, 15)))
    s.h.refused("voucher.expired", HA, "voucher.transferred", payload)
    s.h.refused("voucher.unknown_voucher", HA, "voucher.transferred", {**payload, "voucher": "FP-NONE"})


def test_a_partly_used_voucher_passes_on_its_balance() -> None:
    s = prepared("voucher.settled")
    left = ev.FACE_FEN - ev.REDEEMED_FEN
    part = {"voucher": "FP-C", "holders": [ex.NEIGHBOUR_HEAD], "amount_fen": left}
    s.h.submit(HA, "voucher.transferred", {**ex.example("voucher.transferred"), "parts": [part]})
    parent, child = voucher(s), voucher(s, "FP-C")
    assert (parent.used_fen, parent.transferred_fen, parent.balance_fen) == (ev.REDEEMED_FEN, left, 0)
    assert parent.face_fen == parent.used_fen + parent.transferred_fen + parent.balance_fen
    assert (child.face_fen, child.used_fen, child.bonus_fen) == (left, 0, 0)


# 10-11. voucher.expired, voucher.cashed_out


def test_expiry_pays_the_remainder_less_the_bonus_pro_rata_below_the_par_share() -> None:
    s = prepared("voucher.expired")
    s.h.refused(
        "voucher.cash_mismatch",
        HA,
        "voucher.expired",
        {"voucher": ev.VOUCHER, "cash_fen": ev.FACE_FEN - ev.REDEEMED_FEN},
    )
    changes = s.example()
    v = changes.one(Voucher)
    assert (v.status, v.cash_due_fen, v.balance_fen) == (
        "expired",
        ev.EXPIRY_CASH_FEN,
        ev.FACE_FEN - ev.REDEEMED_FEN,
    )
    [m] = changes.puts(VoucherMovement)
    assert (m.kind, m.amount_fen) == ("voucher.expired", ev.EXPIRY_CASH_FEN)
    s.h.refused("voucher.not_active", HA, "voucher.expired", ex.example("voucher.expired"))


def test_expiry_at_par_once_the_par_share_was_used() -> None:
    s = prepared("voucher.redeemed")
    used = ev.FACE_FEN * 85 // 100  # 397,800 yuan: exactly 85 %
    s.h.submit(DEV, "voucher.redeemed", redemption(1, used, price_fen=10**11))
    s.h.clock.set(at_local(date(2028, 4, 15)))
    s.h.refused(
        "voucher.cash_mismatch",
        COUNTY,
        "voucher.expired",
        {"voucher": ev.VOUCHER, "cash_fen": ev.FACE_FEN - used - 1},
    )
    row = s.h.submit(COUNTY, "voucher.expired", {"voucher": ev.VOUCHER, "cash_fen": ev.FACE_FEN - used}).one(
        Voucher
    )
    assert row.cash_due_fen == ev.FACE_FEN - used  # the county may record the expiry too


def test_not_before_the_last_valid_day_is_over_nor_for_a_spent_voucher() -> None:
    s = prepared("voucher.redeemed")
    s.h.clock.set(at_local(date(2028, 4, 14)))
    s.h.refused(
        "voucher.not_expired", HA, "voucher.expired", {"voucher": ev.VOUCHER, "cash_fen": ev.FACE_FEN}
    )
    s.h.submit(DEV, "voucher.redeemed", redemption(1, ev.FACE_FEN, price_fen=10**11))
    s.h.clock.set(at_local(date(2028, 4, 15)))
    s.h.refused("voucher.not_active", HA, "voucher.expired", {"voucher": ev.VOUCHER, "cash_fen": 0})
    refusal = s.h.refused(
        "voucher.unknown_voucher", HA, "voucher.expired", {"voucher": "FP-NONE", "cash_fen": 0}
    )
    assert refusal.category == Category.NOT_FOUND
    refusal = s.h.refused(
        "voucher.not_housing_authority", DEV, "voucher.expired", {"voucher": ev.VOUCHER, "cash_fen": 0}
    )
    assert refusal.category == Category.FORBIDDEN


def test_the_cash_due_is_paid_once_after_expiry() -> None:
    s = prepared("voucher.expired")
    payload = ex.example("voucher.cashed_out")
    s.h.refused("voucher.not_expired_yet", HA, "voucher.cashed_out", payload)
    s.submit("voucher.expired")
    s.h.refused(
        "voucher.cash_mismatch", HA, "voucher.cashed_out", {**payload, "amount_fen": ev.EXPIRY_CASH_FEN + 1}
    )
    changes = s.h.submit(HA, "voucher.cashed_out", payload)
    assert changes.one(Voucher).status == "cashed_out"
    assert changes.one(VoucherMovement).amount_fen == ev.EXPIRY_CASH_FEN
    s.h.refused("voucher.already_cashed_out", HA, "voucher.cashed_out", payload)
    s.h.refused("voucher.expired", DEV, "voucher.redeemed", redemption(9, 1))
    refusal = s.h.refused("voucher.not_housing_authority", COUNTY, "voucher.cashed_out", payload)
    assert refusal.category == Category.FORBIDDEN


def test_every_changing_record_leaves_one_movement_and_the_balance_adds_up() -> None:
    s = prepared("voucher.cashed_out")
    s.example()
    v = voucher(s)
    kinds = [m.kind for m in movements(s)]
    assert kinds == ["voucher.issued", "voucher.redeemed", "voucher.expired", "voucher.cashed_out"]
    assert v.face_fen == v.used_fen + v.transferred_fen + v.balance_fen
    assert all(m.balance_fen >= 0 for m in s.h.rows(VoucherMovement))
