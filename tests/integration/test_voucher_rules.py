"""House vouchers' rules through the HTTP API: each refusal code by name, in the entry's own
problem (a list submission's per-entry answer), with the log (size, checkpoint) and every
voucher, exchange and right table left exactly as they were; and the accepted acts that the
refusals stand beside (issuance, partial redemption with its bonus, staged settlement, a split
transfer, expiry and cash-out at the 85% rule).

One market serves the module (``tests.voucher_http.VoucherMarket``). The clock only moves
forward: vouchers that must expire are issued under a one-month validity (the terms are copied
at issuance, so the county's later return to 24 months leaves them short), and the tests that
need a voucher at a moment of its life take it from module fixtures in file order.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
import pytest_asyncio

from tests.registry_support import hexdigest
from tests.support import LedgerFixture
from tests.voucher_http import (
    APPRAISAL_FEN,
    FACE_FEN,
    HOMESTEAD_M2,
    PRICES,
    VoucherMarket,
    Withdrawn,
    add_months,
)

ISSUED = "voucher.issued"
CASH = "voucher.cash_compensated"
REDEEMED = "voucher.redeemed"
SETTLED = "voucher.settled"
TRANSFERRED = "voucher.transferred"
EXPIRED = "voucher.expired"
CASHED_OUT = "voucher.cashed_out"
PUBLISHED = "voucher.prices_published"
ADMITTED = "voucher.developer_admitted"
PROJECT = "voucher.project_registered"
LEFT = "voucher.developer_left"
FORBIDDEN = 403


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def m(ledger: LedgerFixture) -> AsyncIterator[VoucherMarket]:
    market = await VoucherMarket.open_vouchers(
        ledger, "vr", households=11, cash=2, hilly=1, held=1, full=True
    )
    yield market
    await market.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fresh(m: VoucherMarket) -> Withdrawn:
    """A household whose homestead was withdrawn for a voucher, none issued yet (refusals only)."""
    return m.take()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def main(m: VoucherMarket) -> tuple[Withdrawn, str]:
    """A voucher issued for a plain homestead: 160 m² at 1,500 yuan plus the house, 300,000 yuan."""
    w = m.take()
    return w, await m.issue(w)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def redeemed(m: VoucherMarket, main: tuple[Withdrawn, str]) -> str:
    """100,000 yuan of the main voucher redeemed in its first months (5% bonus)."""
    return await m.redeem(main[1], 10_000_000)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def spent(m: VoucherMarket) -> str:
    voucher = await m.issue()
    await m.redeem(voucher, FACE_FEN)
    return voucher


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def split(m: VoucherMarket) -> tuple[str, list[str]]:
    """A voucher split between two buyers (member parties of another household)."""
    voucher = await m.issue()
    children = await m.transfer(
        voucher, [([m.buyers[0]], 10_000_000), ([m.buyers[1], m.buyers[2]], 20_000_000)]
    )
    return voucher, children


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def untransferable(m: VoucherMarket) -> str:
    """A voucher issued while the county allowed no transfer."""
    await m.set_policy(voucher_transfers_allowed=0)
    voucher = await m.issue()
    await m.set_policy(voucher_transfers_allowed=1)
    return voucher


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def two_stages(m: VoucherMarket) -> str:
    """A redemption of a voucher issued while the county settled in two stages."""
    await m.set_policy(voucher_settlement_stages=[["contract", 5000], ["handover", 5000]])
    voucher = await m.issue()
    await m.set_policy(
        voucher_settlement_stages=[["contract", 3000], ["registration", 4000], ["handover", 3000]]
    )
    return await m.redeem(voucher, 1_000_000)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def future_schedule(m: VoucherMarket) -> str:
    schedule = "S-vr-2040"
    await m.publish(schedule, date(2040, 1, 1), {"plain": 200_000})
    return schedule


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def gone(m: VoucherMarket) -> tuple[str, str]:
    """A developer admitted, with a project in the county, that then left the pool itself."""
    developer, project = "dev4-vr", "P4-vr"
    await m.fx.register("county", developer, "developer")
    await m.admit(developer)
    await m.register_project(project, developer)
    await m.leave(developer, key=m.key_of(developer))
    return developer, project


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def short(m: VoucherMarket) -> tuple[str, date, str]:
    """A voucher issued under a one-month validity, half of it redeemed, another one spent
    whole, and the clock the day after their last valid day: (voucher, valid_until, spent one).
    Nothing recorded an expiry yet."""
    await m.set_policy(voucher_validity_months=1)
    voucher, whole = await m.issue(), await m.issue()
    await m.set_policy(voucher_validity_months=24)
    await m.redeem(voucher, FACE_FEN // 2)
    await m.redeem(whole, FACE_FEN)
    assert (await m.voucher_row(whole))["valid_until"] == (await m.voucher_row(voucher))["valid_until"]
    row = await m.voucher_row(voucher)
    until = row["valid_until"]
    assert until == add_months(row["issued_on"], 1) - timedelta(days=1)
    m.past_validity(until)
    return voucher, until, whole


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def expired(m: VoucherMarket, short: tuple[str, date, str]) -> tuple[str, int]:
    """The short voucher's expiry recorded: (voucher, cash due)."""
    return short[0], await m.expire(short[0])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def cashed(m: VoucherMarket, expired: tuple[str, int]) -> str:
    await m.cash_out(expired[0])
    return expired[0]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def exchanged(m: VoucherMarket) -> Withdrawn:
    """The settled household's homestead sold on the exchange to a member household, the
    certificate issued, and the seller (not the homestead's holder now) issued a voucher for it:
    it may take a voucher or cash, never both."""
    listing = "L-vr-homestead"
    loser, winner = await m.bidding(listing, m.homestead_right())
    await m.bid(listing, loser, 1_000_000)
    await m.bid(listing, winner, 1_100_000)
    await m.after_close(listing)
    await m.award(listing, winner, 1_100_000)
    await m.sign_contract(listing)
    await m.pay(listing)
    await m.refund(listing, loser)
    await m.certify(listing)
    w = Withdrawn(m.settled, m.homestead, list(m.holders), "plain", 160, None)
    await m.issue(w, voucher="V-vr-exchanged")
    return w


def unknown_party() -> str:
    return str(uuid.uuid4())


# Accepted acts: what the refusals below stand beside


async def test_issuance_copies_the_terms_in_force(m: VoucherMarket, main: tuple[Withdrawn, str]) -> None:
    w, voucher = main
    row = await m.voucher_row(voucher)
    assert (row["face_fen"], row["balance_fen"], row["used_fen"], row["status"]) == (
        FACE_FEN,
        FACE_FEN,
        0,
        "active",
    )
    assert FACE_FEN == HOMESTEAD_M2 * PRICES["plain"] + APPRAISAL_FEN == 30_000_000
    assert (row["household_id"], row["homestead_id"], row["generation"]) == (w.household, w.homestead, 0)
    assert row["valid_until"] == add_months(row["issued_on"], 24) - timedelta(days=1)
    assert (row["transfers_allowed"], row["par_share_bp"], row["floor_m2_per_person"]) == (1, 8500, 35)
    compensation = await m.row("homestead_compensations", homestead_id=w.homestead)
    assert (compensation["choice"], compensation["voucher_id"]) == ("voucher", voucher)


async def test_partial_redemption_with_its_bonus(
    m: VoucherMarket, main: tuple[Withdrawn, str], redeemed: str
) -> None:
    row = await m.redemption_row(redeemed)
    assert (row["amount_fen"], row["bonus_bp"], row["bonus_fen"], row["value_fen"]) == (
        10_000_000,
        500,
        500_000,
        10_500_000,
    )
    voucher = await m.voucher_row(main[1])
    assert (voucher["used_fen"], voucher["bonus_fen"], voucher["balance_fen"]) == (
        10_000_000,
        500_000,
        20_000_000,
    )
    assert voucher["status"] == "active"


async def test_staged_settlement_in_order(m: VoucherMarket, redeemed: str) -> None:
    await m.settle(redeemed, "contract")
    row = await m.redemption_row(redeemed)
    assert (row["settled_stages"], row["settled_fen"]) == (1, 10_500_000 * 3000 // 10_000)


async def test_a_split_transfer(m: VoucherMarket, split: tuple[str, list[str]]) -> None:
    parent, children = split
    row = await m.voucher_row(parent)
    assert (row["status"], row["balance_fen"], row["transferred_fen"]) == ("transferred", 0, FACE_FEN)
    for child, amount in zip(children, (10_000_000, 20_000_000), strict=True):
        c = await m.voucher_row(child)
        assert (c["parent_id"], c["generation"], c["face_fen"], c["balance_fen"]) == (
            parent,
            1,
            amount,
            amount,
        )
        assert (c["issued_on"], c["valid_until"]) == (row["issued_on"], row["valid_until"])
    # A new holder spends its part.
    await m.redeem(children[0], 1_000_000, holder=m.buyers[0])


# Price schedules


async def test_schedule_id_taken(m: VoucherMarket) -> None:
    payload = m.schedule_payload(m.schedule, m.today() + timedelta(days=400))
    await m.refused_by("county", PUBLISHED, payload, "voucher.schedule_exists")


async def test_schedule_backdated(m: VoucherMarket) -> None:
    payload = m.schedule_payload("S-vr-back", m.today() - timedelta(days=1))
    await m.refused_by("county", PUBLISHED, payload, "voucher.schedule_backdated")


async def test_two_schedules_from_one_day(m: VoucherMarket, future_schedule: str) -> None:
    payload = m.schedule_payload("S-vr-2040b", date(2040, 1, 1))
    await m.refused_by("county", PUBLISHED, payload, "voucher.effective_date_taken")


async def test_schedule_published_by_the_housing_authority(m: VoucherMarket) -> None:
    payload = m.schedule_payload("S-vr-ha", m.today() + timedelta(days=500))
    await m.refused_by(m.authority, PUBLISHED, payload, "voucher.not_county", status=FORBIDDEN)


# The developer pool


async def test_admitting_an_organisation_that_is_no_developer(m: VoucherMarket) -> None:
    await m.refused_by("county", ADMITTED, {"developer": m.authority}, "voucher.not_a_developer")


async def test_admitting_a_developer_in_the_pool(m: VoucherMarket) -> None:
    await m.refused_by("county", ADMITTED, {"developer": m.developer}, "voucher.already_in_pool")


async def test_pool_admission_by_the_housing_authority(m: VoucherMarket) -> None:
    payload = {"developer": m.stranger}
    await m.refused_by(m.authority, ADMITTED, payload, "voucher.not_county", status=FORBIDDEN)


async def test_project_id_taken(m: VoucherMarket) -> None:
    payload = m.project_payload(m.project, m.developer) | {"presale_permit": "WD-new-1"}
    await m.refused_by("county", PROJECT, payload, "voucher.project_exists")


async def test_project_of_a_developer_outside_the_pool(m: VoucherMarket) -> None:
    payload = m.project_payload("P-vr-stranger", m.stranger)
    await m.refused_by("county", PROJECT, payload, "voucher.developer_not_in_pool")


async def test_presale_permit_taken(m: VoucherMarket) -> None:
    payload = m.project_payload("P-vr-copy", m.rival) | {"presale_permit": f"WD-{m.project}"}
    await m.refused_by("county", PROJECT, payload, "voucher.permit_taken")


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("3710031", "voucher.invalid_area_code"),
        ("37100300", "voucher.invalid_area_code"),
        ("37100", "payload.invalid"),  # the schema takes 6 to 12 digits
        ("3710030010011", "payload.invalid"),
    ],
)
async def test_project_with_a_bad_area_code(m: VoucherMarket, code: str, problem: str) -> None:
    payload = m.project_payload(f"P-vr-bad-{len(code)}", m.developer, area_code=code)
    await m.refused_by("county", PROJECT, payload, problem)


async def test_leaving_a_pool_never_joined(m: VoucherMarket) -> None:
    await m.refused_by("county", LEFT, {"developer": m.stranger}, "voucher.developer_not_in_pool")


async def test_leaving_twice(m: VoucherMarket, gone: tuple[str, str]) -> None:
    await m.refused_by(gone[0], LEFT, {"developer": gone[0]}, "voucher.developer_not_in_pool")


async def test_leaving_for_another_developer(m: VoucherMarket) -> None:
    payload = {"developer": m.rival}
    await m.refused_by(m.developer, LEFT, payload, "voucher.not_developer", status=FORBIDDEN)


async def test_bad_settlement_stages_in_the_policy(m: VoucherMarket) -> None:
    for stages in ([["contract", 5000]], [["contract", 5000], ["contract", 5000]], []):
        payload = {"numbers": {"voucher_settlement_stages": stages}}
        await m.refused_by("county", "policy.set", payload, "policy.invalid")


# Issuance and cash compensation


async def test_voucher_id_taken(m: VoucherMarket, fresh: Withdrawn, main: tuple[Withdrawn, str]) -> None:
    await m.refused_by(m.authority, ISSUED, m.issue_payload(fresh, main[1]), "voucher.exists")


async def test_issuance_without_a_recorded_withdrawal(m: VoucherMarket) -> None:
    held = m.peek(None)
    await m.refused_by(m.authority, ISSUED, m.issue_payload(held), "voucher.no_withdrawal")
    await m.refused_by(m.authority, CASH, m.cash_payload(held), "voucher.no_withdrawal")
    unknown = Withdrawn(held.household, "H-nobody", held.members)
    await m.refused_by(m.authority, ISSUED, m.issue_payload(unknown), "voucher.no_withdrawal")


async def test_voucher_for_a_household_that_chose_cash(m: VoucherMarket) -> None:
    w = m.peek("cash")
    await m.refused_by(m.authority, ISSUED, m.issue_payload(w), "voucher.household_chose_cash")


async def test_cash_for_a_household_that_chose_a_voucher(m: VoucherMarket, fresh: Withdrawn) -> None:
    await m.refused_by(m.authority, CASH, m.cash_payload(fresh), "voucher.household_chose_voucher")


async def test_second_voucher_for_one_homestead(m: VoucherMarket, main: tuple[Withdrawn, str]) -> None:
    await m.refused_by(m.authority, ISSUED, m.issue_payload(main[0]), "voucher.already_compensated")


async def test_cash_twice_for_one_homestead(m: VoucherMarket) -> None:
    w = m.take("cash")
    await m.compensate_cash(w)
    await m.refused_by(m.authority, CASH, m.cash_payload(w), "voucher.already_compensated")


async def test_voucher_and_cash_for_one_exchanged_homestead(m: VoucherMarket, exchanged: Withdrawn) -> None:
    assert m.db is not None
    holder = await m.db.fetchval("SELECT household_id FROM homesteads WHERE id = $1", exchanged.homestead)
    assert holder != exchanged.household  # the certificate moved the homestead to the buyer
    voucher = await m.voucher_row("V-vr-exchanged")
    assert (voucher["household_id"], voucher["face_fen"]) == (exchanged.household, FACE_FEN)
    row = await m.row("homestead_compensations", homestead_id=exchanged.homestead)
    assert (row["household_id"], row["choice"], row["voucher_id"]) == (
        exchanged.household,
        "voucher",
        "V-vr-exchanged",
    )
    await m.refused_by(m.authority, CASH, m.cash_payload(exchanged), "voucher.already_compensated")
    await m.refused_by(m.authority, ISSUED, m.issue_payload(exchanged), "voucher.already_compensated")


async def test_issuance_under_an_unknown_schedule(m: VoucherMarket, fresh: Withdrawn) -> None:
    payload = m.issue_payload(fresh, schedule="S-nobody")
    await m.refused_by(m.authority, ISSUED, payload, "voucher.unknown_schedule")
    cash = m.cash_payload(m.peek("cash"), schedule="S-nobody")
    await m.refused_by(m.authority, CASH, cash, "voucher.unknown_schedule")


async def test_issuance_under_a_schedule_not_in_force(
    m: VoucherMarket, fresh: Withdrawn, future_schedule: str
) -> None:
    payload = m.issue_payload(
        fresh, schedule=future_schedule, face_fen=HOMESTEAD_M2 * 200_000 + APPRAISAL_FEN
    )
    await m.refused_by(m.authority, ISSUED, payload, "voucher.schedule_not_in_force")


async def test_issuance_under_a_superseded_schedule(m: VoucherMarket, fresh: Withdrawn) -> None:
    """A schedule from tomorrow at the same prices: from then on the first is no longer the one
    in force, and the builder issues under the new one."""
    new = "S-vr-next"
    await m.publish(new, m.today() + timedelta(days=1))
    assert await m.issue(m.take(), schedule=m.schedule)  # still today: the first is in force
    m.on_local(m.today() + timedelta(days=1))
    await m.refused_by(m.authority, ISSUED, m.issue_payload(fresh), "voucher.schedule_not_in_force")
    m.schedule = new


async def test_issuance_for_a_zone_the_schedule_does_not_price(m: VoucherMarket) -> None:
    w = m.peek(zone="hilly_flat")
    await m.refused_by(m.authority, ISSUED, m.issue_payload(w), "voucher.zone_not_priced")


@pytest.mark.parametrize("delta", [1, -1, -APPRAISAL_FEN])
async def test_face_value_not_matching_the_schedule(m: VoucherMarket, fresh: Withdrawn, delta: int) -> None:
    payload = m.issue_payload(fresh, face_fen=fresh.face_fen + delta)
    await m.refused_by(m.authority, ISSUED, payload, "voucher.face_value_mismatch")


async def test_cash_not_matching_the_schedule(m: VoucherMarket) -> None:
    w = m.peek("cash")
    payload = m.cash_payload(w, amount_fen=w.face_fen - 1)
    await m.refused_by(m.authority, CASH, payload, "voucher.face_value_mismatch")


@pytest.mark.parametrize("who", ["member_of_another_household", "unregistered"])
async def test_holder_not_of_the_household(m: VoucherMarket, fresh: Withdrawn, who: str) -> None:
    other = m.buyers[0] if who == "member_of_another_household" else unknown_party()
    payload = m.issue_payload(fresh, holders=[fresh.members[0], other])
    await m.refused_by(m.authority, ISSUED, payload, "voucher.holder_not_of_household")


@pytest.mark.parametrize("signer", ["county", "exchange", "developer"])
async def test_issuance_by_another_than_the_housing_authority(
    m: VoucherMarket, fresh: Withdrawn, signer: str
) -> None:
    org = {"county": "county", "exchange": m.exchange, "developer": m.developer}[signer]
    payload = m.issue_payload(fresh)
    await m.refused_by(org, ISSUED, payload, "voucher.not_housing_authority", status=FORBIDDEN)
    await m.refused_by(org, CASH, m.cash_payload(fresh), "voucher.not_housing_authority", status=FORBIDDEN)


# Redemption


async def test_redemption_id_taken(m: VoucherMarket, main: tuple[Withdrawn, str], redeemed: str) -> None:
    payload = m.redeem_payload(main[1], 1_000, main[0].members[0], redemption=redeemed)
    await m.refused_by(m.developer, REDEEMED, payload, "voucher.redemption_exists")


async def test_redemption_of_an_unknown_voucher(m: VoucherMarket) -> None:
    payload = m.redeem_payload("V-nobody", 1_000, unknown_party())
    await m.refused_by(m.developer, REDEEMED, payload, "voucher.unknown_voucher", status=404)


async def test_redemption_by_a_developer_outside_the_pool(
    m: VoucherMarket, main: tuple[Withdrawn, str]
) -> None:
    payload = m.redeem_payload(main[1], 1_000, main[0].members[0])
    await m.refused_by(m.stranger, REDEEMED, payload, "voucher.developer_not_in_pool")


async def test_redemption_by_a_developer_that_left(
    m: VoucherMarket, main: tuple[Withdrawn, str], gone: tuple[str, str]
) -> None:
    payload = m.redeem_payload(main[1], 1_000, main[0].members[0], project=gone[1])
    await m.refused_by(gone[0], REDEEMED, payload, "voucher.developer_not_in_pool")


async def test_a_developer_that_left_admitted_again(
    m: VoucherMarket, main: tuple[Withdrawn, str], gone: tuple[str, str]
) -> None:
    await m.admit(gone[0])
    assert (await m.row("voucher_pool_developers", developer_id=gone[0]))["status"] == "in_pool"
    redemption = await m.redeem(main[1], 1_000, developer=gone[0], project=gone[1])
    assert (await m.redemption_row(redemption))["developer_id"] == gone[0]


async def test_redemption_on_an_unknown_project(m: VoucherMarket, main: tuple[Withdrawn, str]) -> None:
    payload = m.redeem_payload(main[1], 1_000, main[0].members[0], project="P-nobody")
    await m.refused_by(m.developer, REDEEMED, payload, "voucher.unknown_project")


async def test_redemption_on_another_developers_project(
    m: VoucherMarket, main: tuple[Withdrawn, str]
) -> None:
    payload = m.redeem_payload(main[1], 1_000, main[0].members[0], project=m.rival_project)
    await m.refused_by(m.developer, REDEEMED, payload, "voucher.project_not_developers")


async def test_redemption_outside_the_issuing_county(m: VoucherMarket, main: tuple[Withdrawn, str]) -> None:
    payload = m.redeem_payload(main[1], 1_000, main[0].members[0], project=m.far_project)
    await m.refused_by(m.developer, REDEEMED, payload, "voucher.outside_county")


async def test_redemption_by_a_party_not_holding_the_voucher(
    m: VoucherMarket, main: tuple[Withdrawn, str]
) -> None:
    for party in (m.buyers[0], unknown_party()):
        payload = m.redeem_payload(main[1], 1_000, party)
        await m.refused_by(m.developer, REDEEMED, payload, "voucher.not_holder")


async def test_redemption_beyond_the_balance(
    m: VoucherMarket, main: tuple[Withdrawn, str], redeemed: str
) -> None:
    balance = (await m.voucher_row(main[1]))["balance_fen"]
    payload = m.redeem_payload(main[1], balance + 1, main[0].members[0])
    await m.refused_by(m.developer, REDEEMED, payload, "voucher.beyond_balance")


async def test_redemption_beyond_the_price(m: VoucherMarket, main: tuple[Withdrawn, str]) -> None:
    # 1,000,000 fen used in the bonus months applies 1,050,000 to a purchase of 1,040,000.
    payload = m.redeem_payload(main[1], 1_000_000, main[0].members[0], price_fen=1_040_000)
    await m.refused_by(m.developer, REDEEMED, payload, "voucher.beyond_price")


async def test_redemptions_beyond_the_price_together(m: VoucherMarket, main: tuple[Withdrawn, str]) -> None:
    purchase, price = hexdigest("purchase vr shared"), 2_000_000
    await m.redeem(main[1], 1_000_000, purchase=purchase, price_fen=price)  # applies 1,050,000
    payload = m.redeem_payload(main[1], 1_000_000, main[0].members[0], purchase=purchase, price_fen=price)
    await m.refused_by(m.developer, REDEEMED, payload, "voucher.beyond_price")


async def test_purchase_contract_at_another_price(
    m: VoucherMarket, main: tuple[Withdrawn, str], redeemed: str
) -> None:
    first = await m.redemption_row(redeemed)
    payload = m.redeem_payload(
        main[1],
        1_000,
        main[0].members[0],
        purchase=first["purchase_contract"],
        price_fen=first["price_fen"] + 1,
    )
    await m.refused_by(m.developer, REDEEMED, payload, "voucher.purchase_price_differs")


async def test_redemption_of_a_spent_voucher(m: VoucherMarket, spent: str) -> None:
    row = await m.voucher_row(spent)
    assert (row["status"], row["balance_fen"]) == ("spent", 0)
    payload = m.redeem_payload(spent, 1, (await m.holders_of(spent))[0])
    await m.refused_by(m.developer, REDEEMED, payload, "voucher.not_active")


async def test_redemption_of_a_transferred_voucher(m: VoucherMarket, split: tuple[str, list[str]]) -> None:
    parent = split[0]
    payload = m.redeem_payload(parent, 1_000, (await m.holders_of(parent))[0])
    await m.refused_by(m.developer, REDEEMED, payload, "voucher.not_active")


@pytest.mark.parametrize("signer", ["authority", "county"])
async def test_redemption_signed_by_another_than_a_developer(
    m: VoucherMarket, main: tuple[Withdrawn, str], signer: str
) -> None:
    org = m.authority if signer == "authority" else "county"
    payload = m.redeem_payload(main[1], 1_000, main[0].members[0])
    await m.refused_by(org, REDEEMED, payload, "voucher.not_developer", status=FORBIDDEN)


# Settlement


async def test_settlement_of_an_unknown_redemption(m: VoucherMarket) -> None:
    payload = await m.settle_payload("R-nobody", "contract", 1_000)
    await m.refused_by(m.authority, SETTLED, payload, "voucher.unknown_redemption", status=404)


async def test_settlement_of_a_stage_the_voucher_has_not(m: VoucherMarket, two_stages: str) -> None:
    payload = await m.settle_payload(two_stages, "contract", 1)
    payload["stage"] = "registration"
    await m.refused_by(m.authority, SETTLED, payload, "voucher.unknown_stage")


async def test_settlement_out_of_order(m: VoucherMarket, two_stages: str) -> None:
    payload = await m.settle_payload(two_stages, "handover")
    await m.refused_by(m.authority, SETTLED, payload, "voucher.stage_out_of_order")


async def test_settlement_of_a_stage_twice(m: VoucherMarket, redeemed: str) -> None:
    # The contract stage was settled in test_staged_settlement_in_order.
    assert (await m.redemption_row(redeemed))["settled_stages"] >= 1
    payload = await m.settle_payload(redeemed, "contract")
    await m.refused_by(m.authority, SETTLED, payload, "voucher.stage_settled")


@pytest.mark.parametrize("delta", [1, -1])
async def test_settlement_of_another_amount(m: VoucherMarket, two_stages: str, delta: int) -> None:
    due = await m.stage_due(two_stages, "contract")
    payload = await m.settle_payload(two_stages, "contract", due + delta)
    await m.refused_by(m.authority, SETTLED, payload, "voucher.settlement_mismatch")


async def test_settlement_by_a_developer(m: VoucherMarket, two_stages: str) -> None:
    payload = await m.settle_payload(two_stages, "contract")
    await m.refused_by(m.developer, SETTLED, payload, "voucher.not_housing_authority", status=FORBIDDEN)


# Transfer


async def test_transferred_voucher_transferred_again(m: VoucherMarket, split: tuple[str, list[str]]) -> None:
    child = split[1][1]
    balance = (await m.voucher_row(child))["balance_fen"]
    payload = m.transfer_payload(child, [([m.buyers[0]], balance)])
    await m.refused_by(m.authority, TRANSFERRED, payload, "voucher.transferred_again")


async def test_transfer_of_a_voucher_already_transferred(
    m: VoucherMarket, split: tuple[str, list[str]]
) -> None:
    payload = m.transfer_payload(split[0], [([m.buyers[0]], FACE_FEN)])
    await m.refused_by(m.authority, TRANSFERRED, payload, "voucher.not_active")


async def test_transfer_of_a_spent_voucher(m: VoucherMarket, spent: str) -> None:
    payload = m.transfer_payload(spent, [([m.buyers[0]], 1)])
    await m.refused_by(m.authority, TRANSFERRED, payload, "voucher.not_active")


async def test_transfer_the_policy_forbade_at_issuance(m: VoucherMarket, untransferable: str) -> None:
    # The county allows transfers again now; the voucher keeps the terms it was issued under.
    payload = m.transfer_payload(untransferable, [([m.buyers[0]], FACE_FEN)])
    await m.refused_by(m.authority, TRANSFERRED, payload, "voucher.transfer_not_allowed")


async def test_transfer_leaving_the_household_short_of_floor_area(
    m: VoucherMarket, main: tuple[Withdrawn, str], redeemed: str
) -> None:
    # Two members at 35 m² each: 70 m² is enough, 69 m² is not.
    balance = (await m.voucher_row(main[1]))["balance_fen"]
    payload = m.transfer_payload(main[1], [([m.buyers[0]], balance)], floor_area_m2=69)
    await m.refused_by(m.authority, TRANSFERRED, payload, "voucher.floor_area_short")


@pytest.mark.parametrize("delta", [1, -1])
async def test_transfer_parts_not_summing_to_the_balance(
    m: VoucherMarket, main: tuple[Withdrawn, str], redeemed: str, delta: int
) -> None:
    balance = (await m.voucher_row(main[1]))["balance_fen"]
    payload = m.transfer_payload(
        main[1], [([m.buyers[0]], balance // 2), ([m.buyers[1]], balance - balance // 2 + delta)]
    )
    await m.refused_by(m.authority, TRANSFERRED, payload, "voucher.parts_not_summing")


@pytest.mark.parametrize("taken", ["existing", "repeated"])
async def test_transfer_part_under_a_taken_id(
    m: VoucherMarket, main: tuple[Withdrawn, str], spent: str, redeemed: str, taken: str
) -> None:
    balance = (await m.voucher_row(main[1]))["balance_fen"]
    payload = m.transfer_payload(
        main[1], [([m.buyers[0]], balance // 2), ([m.buyers[1]], balance - balance // 2)]
    )
    if taken == "existing":
        payload["parts"][1]["voucher"] = spent
    else:
        payload["parts"][1]["voucher"] = payload["parts"][0]["voucher"]
    await m.refused_by(m.authority, TRANSFERRED, payload, "voucher.exists")


async def test_transfer_to_an_unregistered_party(
    m: VoucherMarket, main: tuple[Withdrawn, str], redeemed: str
) -> None:
    balance = (await m.voucher_row(main[1]))["balance_fen"]
    payload = m.transfer_payload(main[1], [([unknown_party()], balance)])
    await m.refused_by(m.authority, TRANSFERRED, payload, "voucher.unknown_holder")


async def test_transfer_by_the_county(m: VoucherMarket, main: tuple[Withdrawn, str], redeemed: str) -> None:
    balance = (await m.voucher_row(main[1]))["balance_fen"]
    payload = m.transfer_payload(main[1], [([m.buyers[0]], balance)])
    await m.refused_by("county", TRANSFERRED, payload, "voucher.not_housing_authority", status=FORBIDDEN)


# Expiry and cash-out. Order matters from here: the short voucher's clock is past its validity,
# then its expiry is recorded, then its cash paid.


async def test_expiry_before_the_end_of_validity(m: VoucherMarket, main: tuple[Withdrawn, str]) -> None:
    payload = {"voucher": main[1], "cash_fen": (await m.voucher_row(main[1]))["balance_fen"]}
    await m.refused_by(m.authority, EXPIRED, payload, "voucher.not_expired")


async def test_cash_out_of_an_active_voucher(m: VoucherMarket, main: tuple[Withdrawn, str]) -> None:
    payload = m.cash_out_payload(main[1], 1_000)
    await m.refused_by(m.authority, CASHED_OUT, payload, "voucher.not_expired_yet")


async def test_redemption_after_expiry(m: VoucherMarket, short: tuple[str, date, str]) -> None:
    voucher, until, _ = short
    assert m.today() == until + timedelta(days=1)
    payload = m.redeem_payload(voucher, 1_000, (await m.holders_of(voucher))[0])
    await m.refused_by(m.developer, REDEEMED, payload, "voucher.expired")


async def test_expiry_of_a_spent_voucher(m: VoucherMarket, short: tuple[str, date, str]) -> None:
    # Past its validity, but nothing is left to expire.
    payload = {"voucher": short[2], "cash_fen": 0}
    await m.refused_by(m.authority, EXPIRED, payload, "voucher.not_active")


async def test_transfer_after_expiry(m: VoucherMarket, short: tuple[str, date, str]) -> None:
    voucher = short[0]
    balance = (await m.voucher_row(voucher))["balance_fen"]
    payload = m.transfer_payload(voucher, [([m.buyers[0]], balance)])
    await m.refused_by(m.authority, TRANSFERRED, payload, "voucher.expired")


async def test_cash_out_before_the_expiry_is_recorded(m: VoucherMarket, short: tuple[str, date, str]) -> None:
    payload = m.cash_out_payload(short[0], await m.cash_due(short[0]))
    await m.refused_by(m.authority, CASHED_OUT, payload, "voucher.not_expired_yet")


@pytest.mark.parametrize("what", ["at_par", "one_fen_more", "one_fen_less"])
async def test_expiry_with_another_cash_amount(
    m: VoucherMarket, short: tuple[str, date, str], what: str
) -> None:
    # Half the face used, under the 85% share: the remainder is cashed less the bonus, pro rata.
    row = await m.voucher_row(short[0])
    due = await m.cash_due(short[0])
    assert (
        due
        == FACE_FEN // 2 - (FACE_FEN // 2 * 500 // 10_000) * (FACE_FEN // 2) // FACE_FEN
        < row["balance_fen"]
    )
    cash = {"at_par": row["balance_fen"], "one_fen_more": due + 1, "one_fen_less": due - 1}[what]
    payload = {"voucher": short[0], "cash_fen": cash}
    await m.refused_by(m.authority, EXPIRED, payload, "voucher.cash_mismatch")


async def test_expiry_by_a_developer(m: VoucherMarket, short: tuple[str, date, str]) -> None:
    payload = {"voucher": short[0], "cash_fen": await m.cash_due(short[0])}
    await m.refused_by(m.developer, EXPIRED, payload, "voucher.not_housing_authority", status=FORBIDDEN)


async def test_expiry_recorded(m: VoucherMarket, expired: tuple[str, int]) -> None:
    voucher, cash = expired
    row = await m.voucher_row(voucher)
    assert (row["status"], row["cash_due_fen"]) == ("expired", cash)
    assert cash == FACE_FEN // 2 - 750_000 * (FACE_FEN // 2) // FACE_FEN == 14_625_000


async def test_expiry_twice(m: VoucherMarket, expired: tuple[str, int]) -> None:
    payload = {"voucher": expired[0], "cash_fen": expired[1]}
    await m.refused_by(m.authority, EXPIRED, payload, "voucher.not_active")
    await m.refused_by("county", EXPIRED, payload, "voucher.not_active")


@pytest.mark.parametrize("delta", [1, -1])
async def test_cash_out_of_another_amount(m: VoucherMarket, expired: tuple[str, int], delta: int) -> None:
    payload = m.cash_out_payload(expired[0], expired[1] + delta)
    await m.refused_by(m.authority, CASHED_OUT, payload, "voucher.cash_mismatch")


async def test_redemption_of_an_expired_voucher(m: VoucherMarket, expired: tuple[str, int]) -> None:
    payload = m.redeem_payload(expired[0], 1_000, (await m.holders_of(expired[0]))[0])
    await m.refused_by(m.developer, REDEEMED, payload, "voucher.expired")


async def test_cash_out_twice(m: VoucherMarket, cashed: str) -> None:
    assert (await m.voucher_row(cashed))["status"] == "cashed_out"
    payload = m.cash_out_payload(cashed, (await m.voucher_row(cashed))["cash_due_fen"])
    await m.refused_by(m.authority, CASHED_OUT, payload, "voucher.already_cashed_out")


async def test_redemption_of_a_cashed_out_voucher(m: VoucherMarket, cashed: str) -> None:
    payload = m.redeem_payload(cashed, 1_000, (await m.holders_of(cashed))[0])
    await m.refused_by(m.developer, REDEEMED, payload, "voucher.expired")


async def test_expiry_at_par_after_most_was_used(m: VoucherMarket) -> None:
    """At least 85% used: the remainder at par, the bonus kept; the county may record it."""
    await m.set_policy(voucher_validity_months=1)
    voucher = await m.issue()
    await m.set_policy(voucher_validity_months=24)
    await m.redeem(voucher, FACE_FEN * 85 // 100)
    row = await m.voucher_row(voucher)
    m.past_validity(row["valid_until"])
    remainder = FACE_FEN - FACE_FEN * 85 // 100
    payload: dict[str, Any] = {"voucher": voucher, "cash_fen": remainder - 1}
    await m.refused_by("county", EXPIRED, payload, "voucher.cash_mismatch")
    assert await m.expire(voucher, key=m.key_of("county")) == remainder


async def test_bonus_in_the_second_year(m: VoucherMarket, main: tuple[Withdrawn, str]) -> None:
    """Months 13 to 24 take the second tier: 2% on the amount used."""
    row = await m.voucher_row(main[1])
    m.on_local(add_months(row["issued_on"], 12))  # the first day of month 13
    redemption = await m.redeem(main[1], 1_000_001)
    r = await m.redemption_row(redemption)
    assert (r["month_of_voucher"], r["bonus_bp"], r["bonus_fen"], r["value_fen"]) == (
        13,
        200,
        20_000,
        1_020_001,
    )
    m.on_local(add_months(row["issued_on"], 13))  # the first day of month 14
    r = await m.redemption_row(await m.redeem(main[1], 1_000))
    assert (r["month_of_voucher"], r["bonus_fen"]) == (14, 20)
