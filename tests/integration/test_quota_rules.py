"""Land quotas' rules through the HTTP API: a withdrawn homestead and a disused collective site
taken through the lifecycle as entries (application, reclamation project, acceptance with the
area measured, confirmation, a listing on the exchange whose certificate moves the quota to
the winner, the proceeds split by the county's shares to the fen, use once), and each refusal
code by name with the log and every quota, exchange and right table left as they were.

One market serves the module (``tests.voucher_http.VoucherMarket``); quotas that reached a
stage no later act can change are shared by module fixtures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.support import LedgerFixture
from tests.voucher_http import HOMESTEAD_M2, VoucherMarket, Withdrawn

APPLIED = "quota.applied"
APPROVED = "quota.project_approved"
ACCEPTED = "quota.accepted"
CONFIRMED = "quota.confirmed"
SPLIT = "quota.proceeds_split"
USED = "quota.used"
LISTED = "exchange.listed"
VALUE = 1_100_000  # what the winning entity bids in ``trade_quota``
FORBIDDEN = 403


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def m(ledger: LedgerFixture) -> AsyncIterator[VoucherMarket]:
    market = await VoucherMarket.open_vouchers(ledger, "qr", households=3, cash=1, held=1)
    yield market
    await market.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def other_village(m: VoucherMarket) -> str:
    village = "v2-qr"
    await m.fx.register(m.v.township, village, "village_collective")
    return village


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def other_exchange(m: VoucherMarket) -> str:
    exchange = "x3-qr"
    await m.fx.register("county", exchange, "exchange_center")
    return exchange


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def applied(m: VoucherMarket) -> tuple[Withdrawn, str]:
    """A quota applied for on a homestead withdrawn for cash, nothing more."""
    w = m.take("cash")
    return w, await m.apply_quota(m.homestead_site(w))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def approved(m: VoucherMarket) -> str:
    quota = await m.apply_quota(m.homestead_site(m.take()))
    await m.approve_quota(quota)
    return quota


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def accepted(m: VoucherMarket) -> str:
    quota = await m.apply_quota(m.collective_site(area_m2=800))
    await m.approve_quota(quota)
    await m.accept_quota(quota, 750)
    return quota


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def confirmed(m: VoucherMarket) -> str:
    """A confirmed quota of a collective site, never listed."""
    return await m.confirmed_quota(m.collective_site(area_m2=900), 900)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def traded(m: VoucherMarket) -> tuple[Withdrawn, str, str]:
    """A withdrawn homestead's quota confirmed at 150 m² and traded: (household, quota, listing)."""
    w = m.take()
    quota = await m.confirmed_quota(m.homestead_site(w), 150)
    return w, quota, await m.trade_quota(quota)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def split(m: VoucherMarket, traded: tuple[Withdrawn, str, str]) -> str:
    await m.split(traded[1])
    return traded[1]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def used(m: VoucherMarket, split: str) -> str:
    await m.use_quota(split)
    return split


# The lifecycle


async def test_the_certificate_moves_the_quota_to_the_winner(
    m: VoucherMarket, traded: tuple[Withdrawn, str, str]
) -> None:
    w, quota, listing = traded
    row = await m.quota_row(quota)
    assert (row["source"], row["site"], row["household_id"], row["site_area_m2"]) == (
        "homestead",
        w.homestead,
        w.household,
        HOMESTEAD_M2,
    )
    assert (row["measured_m2"], row["quota_m2"]) == (150, 150)
    deal = await m.listing_row(listing)
    assert (deal["status"], deal["right_type"], deal["quantity"]) == ("certified", "land_quota", 150)
    winner = await m.bidder_row(listing, deal["winner"])
    assert (row["status"], row["holder"], row["holder_kind"], row["listing_id"]) == (
        "traded",
        winner["bidder"],
        "entity",
        listing,
    )
    assert row["value_fen"] == deal["value_fen"] == VALUE and row["traded_seq"] is not None
    assert deal["seller_fee_fen"] == 0  # a household selling its quota pays no fee
    assert (row["household_fen"], row["collective_fen"], row["used_zone"]) == (None, None, None)


async def test_a_collective_site_quota_goes_to_the_collective(m: VoucherMarket) -> None:
    quota = await m.confirmed_quota(m.collective_site(area_m2=2_000), 1_999)
    row = await m.quota_row(quota)
    assert (row["holder"], row["holder_kind"], row["household_id"]) == (m.v.village, "collective", None)
    await m.trade_quota(quota, amounts=(1_000_000, 1_010_001))
    # No household share for a collective site by default: every fen to the collective.
    await m.refused(SPLIT, m.split_payload(quota, 858_500, 151_501), "quota.split_off_policy")
    await m.split(quota, share_bp=0)
    row = await m.quota_row(quota)
    assert (row["household_fen"], row["collective_fen"]) == (0, 1_010_001)


# Application


async def test_quota_id_taken(m: VoucherMarket, applied: tuple[Withdrawn, str]) -> None:
    payload = m.quota_payload(applied[1], m.collective_site())
    await m.refused_by(m.v.village, APPLIED, payload, "quota.exists")


@pytest.mark.parametrize(
    "site", ["held_homestead", "unknown_homestead", "contracted_parcel", "homestead_plot"]
)
async def test_site_not_reclaimable(m: VoucherMarket, applied: tuple[Withdrawn, str], site: str) -> None:
    assert m.db is not None
    plot = await m.db.fetchval("SELECT plot_code FROM homesteads WHERE id = $1", applied[0].homestead)
    sites: dict[str, dict[str, Any]] = {
        "held_homestead": m.homestead_site(m.peek(None)),
        "unknown_homestead": m.homestead_site("H-nobody"),
        "contracted_parcel": m.collective_site(int(m.parcels[0][-7:])),
        "homestead_plot": {"type": "collective_site", "parcel_code": plot, "area_m2": 100},
    }
    payload = m.quota_payload(f"Q-qr-{site}", sites[site])
    await m.refused_by(m.v.village, APPLIED, payload, "quota.site_not_reclaimable")


async def test_site_applied_for_twice(
    m: VoucherMarket, applied: tuple[Withdrawn, str], accepted: str
) -> None:
    payload = m.quota_payload("Q-qr-again", m.homestead_site(applied[0]))
    await m.refused_by(m.v.village, APPLIED, payload, "quota.site_applied")
    site = await m.quota_row(accepted)
    again = {"type": "collective_site", "parcel_code": site["site"], "area_m2": 800}
    await m.refused_by(m.v.village, APPLIED, m.quota_payload("Q-qr-again2", again), "quota.site_applied")


@pytest.mark.parametrize("code", ["under_another_village", "short"])
async def test_collective_site_with_a_bad_parcel_code(
    m: VoucherMarket, other_village: str, code: str
) -> None:
    parcel = f"{m.fx.codes[other_village]}0000001" if code == "under_another_village" else m.v.parcel(1)[:-1]
    site = {"type": "collective_site", "parcel_code": parcel, "area_m2": 100}
    await m.refused_by(
        m.v.village, APPLIED, m.quota_payload(f"Q-qr-{code}", site), "quota.invalid_parcel_code"
    )


async def test_application_by_another_village(m: VoucherMarket, other_village: str) -> None:
    payload = m.quota_payload("Q-qr-other", m.homestead_site(m.peek()))
    await m.refused_by(other_village, APPLIED, payload, "quota.not_collective", status=FORBIDDEN)


@pytest.mark.parametrize("signer", ["county", "exchange"])
async def test_application_by_another_than_a_village(m: VoucherMarket, signer: str) -> None:
    org = "county" if signer == "county" else m.exchange
    payload = m.quota_payload(f"Q-qr-by-{signer}", m.collective_site())
    await m.refused_by(org, APPLIED, payload, "quota.not_collective", status=FORBIDDEN)


# The lifecycle's order


async def test_acts_on_an_unknown_quota(m: VoucherMarket) -> None:
    await m.refused_by(
        "county", APPROVED, {"quota": "Q-nobody", "project_document": "a" * 64}, "quota.unknown", status=404
    )
    await m.refused_by("county", USED, m.use_payload("Q-nobody"), "quota.unknown", status=404)


async def test_acceptance_before_the_project(m: VoucherMarket, applied: tuple[Withdrawn, str]) -> None:
    payload = m.acceptance_payload(applied[1], 100)
    problem = await m.refused_by("county", ACCEPTED, payload, "quota.wrong_status")
    assert "approved" in problem["detail"]


async def test_confirmation_before_the_acceptance(m: VoucherMarket, approved: str) -> None:
    payload = {"quota": approved, "quota_m2": 100}
    problem = await m.refused_by("county", CONFIRMED, payload, "quota.wrong_status")
    assert "accepted" in problem["detail"]


async def test_project_approved_twice(m: VoucherMarket, approved: str) -> None:
    payload = {"quota": approved, "project_document": "b" * 64}
    await m.refused_by("county", APPROVED, payload, "quota.wrong_status")


async def test_confirmed_twice(m: VoucherMarket, confirmed: str) -> None:
    await m.refused_by("county", CONFIRMED, {"quota": confirmed, "quota_m2": 900}, "quota.wrong_status")


async def test_area_measured_over_the_site(m: VoucherMarket, approved: str) -> None:
    payload = m.acceptance_payload(approved, HOMESTEAD_M2 + 1)
    await m.refused_by("county", ACCEPTED, payload, "quota.measured_over_site")


@pytest.mark.parametrize("delta", [1, -1])
async def test_quota_not_the_area_measured(m: VoucherMarket, accepted: str, delta: int) -> None:
    payload = {"quota": accepted, "quota_m2": 750 + delta}
    await m.refused_by("county", CONFIRMED, payload, "quota.area_mismatch")


@pytest.mark.parametrize(
    ("kind", "signer"), [(APPROVED, "village"), (ACCEPTED, "exchange"), (USED, "authority")]
)
async def test_county_acts_by_another(
    m: VoucherMarket, approved: str, accepted: str, traded: tuple[Withdrawn, str, str], kind: str, signer: str
) -> None:
    org = {"village": m.v.village, "exchange": m.exchange, "authority": m.authority}[signer]
    payload = {
        APPROVED: {"quota": (await m.apply_quota(m.collective_site())), "project_document": "c" * 64},
        ACCEPTED: m.acceptance_payload(approved, 100),
        USED: m.use_payload(traded[1]),
    }[kind]
    await m.refused_by(org, kind, payload, "quota.not_county", status=FORBIDDEN)


# On the exchange


async def test_listing_a_quota_not_confirmed(m: VoucherMarket, accepted: str) -> None:
    payload = m.lot_payload("L-qr-unconfirmed", m.quota_right(accepted))
    await m.refused(LISTED, payload, "exchange.right_not_held")


async def test_listing_a_quota_twice(m: VoucherMarket) -> None:
    quota = await m.confirmed_quota(m.collective_site(area_m2=500), 500)
    await m.lot("L-qr-first", m.quota_right(quota))
    await m.refused(LISTED, m.lot_payload("L-qr-second", m.quota_right(quota)), "exchange.already_listed")
    await m.withdraw("L-qr-first")


async def test_listing_a_traded_quota(m: VoucherMarket, traded: tuple[Withdrawn, str, str]) -> None:
    payload = m.lot_payload("L-qr-resale", m.quota_right(traded[1]))
    await m.refused(LISTED, payload, "exchange.right_not_held")


# Proceeds


async def test_split_before_the_trade(m: VoucherMarket, confirmed: str) -> None:
    await m.refused(SPLIT, m.split_payload(confirmed, 850, 150), "quota.not_traded")


@pytest.mark.parametrize(("household", "collective"), [(935_000, 165_001), (935_000, 164_999), (0, 0)])
async def test_split_not_summing(
    m: VoucherMarket, traded: tuple[Withdrawn, str, str], household: int, collective: int
) -> None:
    await m.refused(SPLIT, m.split_payload(traded[1], household, collective), "quota.split_not_summing")


@pytest.mark.parametrize(("household", "collective"), [(880_000, 220_000), (935_001, 164_999), (0, VALUE)])
async def test_split_off_the_policy(
    m: VoucherMarket, traded: tuple[Withdrawn, str, str], household: int, collective: int
) -> None:
    # 85% of 1,100,000 fen is 935,000 fen: every other split of the whole is off policy.
    await m.refused(SPLIT, m.split_payload(traded[1], household, collective), "quota.split_off_policy")


@pytest.mark.parametrize("signer", ["other_exchange", "county"])
async def test_split_by_another_than_the_listing_exchange(
    m: VoucherMarket, traded: tuple[Withdrawn, str, str], other_exchange: str, signer: str
) -> None:
    org = other_exchange if signer == "other_exchange" else "county"
    payload = m.split_payload(traded[1], 935_000, 165_000)
    await m.refused_by(org, SPLIT, payload, "quota.not_listing_exchange", status=FORBIDDEN)


async def test_split_twice(m: VoucherMarket, split: str) -> None:
    await m.refused(SPLIT, m.split_payload(split, 935_000, 165_000), "quota.already_split")


# Use


async def test_use_before_the_trade(m: VoucherMarket, confirmed: str) -> None:
    await m.refused_by("county", USED, m.use_payload(confirmed), "quota.not_traded")


async def test_quota_used_twice(m: VoucherMarket, used: str) -> None:
    assert (await m.quota_row(used))["status"] == "used"
    await m.refused_by("county", USED, m.use_payload(used, "371082-C1"), "quota.already_used")
    await m.refused(LISTED, m.lot_payload("L-qr-used", m.quota_right(used)), "exchange.right_not_held")


async def test_split_and_use_recorded(m: VoucherMarket, used: str) -> None:
    row = await m.quota_row(used)
    assert (row["household_fen"], row["collective_fen"]) == (935_000, 165_000)  # 85:15, to the fen
    assert (row["status"], row["used_zone"]) == ("used", "371002-R2")
    assert row["split_seq"] < row["used_seq"]


async def test_the_public_exchange_pages_show_a_quota_listing(
    m: VoucherMarket, traded: tuple[Withdrawn, str, str]
) -> None:
    """The board, the results, the feed, the deals and the transaction certificate of a quota
    listing: its terms in m² and 亩, the household as the seller, the price per m²."""
    _, quota, listing = traded
    http = m.fx.client.http
    page = await http.get(f"/v1/exchange/listings/{listing}")
    assert page.status_code == 200, page.text
    assert page.json()["right"] == {"type": "land_quota", "quota": quota, "area_m2": 150, "area_mu": "0.23"}
    board = await http.get(
        "/v1/exchange/listings", params={"right_type": "land_quota", "status": "certified"}
    )
    assert board.status_code == 200 and listing in [x["id"] for x in board.json()["items"]], board.text
    results = await http.get("/v1/exchange/results")
    assert results.status_code == 200, results.text
    feed = await http.get("/v1/exchange/feed.atom")
    assert feed.status_code == 200 and "建设用地节余指标（地票） 150 ㎡" in feed.text
    deals = await http.get("/v1/exchange/deals", params={"right_type": "land_quota"})
    assert deals.status_code == 200, deals.text
    [summary] = deals.json()["summaries"]  # other quotas of this module may have sold too
    assert summary["price_basis"] == "per_m2" and summary["count"] >= 1
    [deal] = [d for d in deals.json()["items"] if d["listing"] == listing]
    assert deal["unit_price_fen"] == (VALUE * 2 + 150) // 300  # per m², rounded half up
    certificate = await http.get(f"/v1/exchange/certificates/{listing}")
    assert certificate.status_code == 200, certificate.text
    assert certificate.json()["transferor"]["kind"] == "household"
