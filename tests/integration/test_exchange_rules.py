"""The exchange's rules through the HTTP API: each refusal code by name, in the entry's own
problem (a list submission's per-entry answer), with the log (size, checkpoint) and the
exchange's projection and the rights it moves left exactly as they were.

One market serves the module (``tests.exchange_http.Market``). The ledger's clock only moves
forward, so a test that needs a listing at a moment of its life (before bidding, while it
runs, after the close) lists its own; listings that have reached a stage no later clock can
change (closed with bids, awarded, certified) are shared by module fixtures.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from contracts.exchange.bidding import quote_commitment
from ledger.entry import format_time, parse_time
from tests.exchange_http import Market, entity
from tests.registry_support import hexdigest
from tests.support import LedgerFixture

BID = "exchange.bid"
LISTED = "exchange.listed"
REGISTERED = "exchange.bidder_registered"
MATCHED = "exchange.priority_matched"
AWARDED = "exchange.awarded"
SALT = "ab" * 16


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def m(ledger: LedgerFixture) -> AsyncIterator[Market]:
    market = await Market.open(ledger, "rules")
    yield market
    await market.close()


def bid(listing: str, bidder: int, amount_fen: int) -> dict[str, Any]:
    return {"listing": listing, "bidder": bidder, "amount_fen": amount_fen}


def deposit(listing: str, bidder: int, amount_fen: int) -> dict[str, Any]:
    return {"listing": listing, "bidder": bidder, "amount_fen": amount_fen, "bank_reference": hexdigest("d")}


def opened(listing: str, bidder: int, amount_fen: int, salt: str = SALT) -> dict[str, Any]:
    return {"listing": listing, "bidder": bidder, "amount_fen": amount_fen, "salt": salt}


def act(listing: str, **more: Any) -> dict[str, Any]:
    return {"listing": listing, **more}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def closed(m: Market) -> dict[str, int]:
    """A listing whose bidding is over, not yet awarded: two entities bid 80,000 and 90,000;
    a member (a priority holder) paid the deposit and did not bid; one entity registered and
    paid nothing."""
    await m.lot("L-closed")
    e1, e2 = await m.register_entity("L-closed"), await m.register_entity("L-closed")
    member = await m.register("L-closed", m.buyers[0])
    unpaid = await m.register_entity("L-closed", deposit=False)
    m.open_bidding("L-closed")
    await m.bid("L-closed", e1, 80_000)
    await m.bid("L-closed", e2, 90_000)
    await m.after_close("L-closed")
    return {"e1": e1, "e2": e2, "member": member, "unpaid": unpaid}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def awarded(m: Market) -> list[int]:
    """A listing awarded to the second of two entity bidders, at 90,000."""
    return await m.awarded("L-awarded")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def certified(m: Market) -> list[int]:
    """A deal taken to its certificate: awarded, contract, payment, the loser refunded."""
    loser, winner = await m.awarded("L-deal")
    await m.sign_contract("L-deal")
    await m.pay("L-deal")
    await m.refund("L-deal", loser)
    await m.certify("L-deal")
    return [loser, winner]


# Listing: the right


@pytest.mark.parametrize(
    "right",
    [
        "unknown_contract",
        "parcel_of_another_contract",
        "more_units_than_held",
        "holder_without_shares",
        "unknown_homestead",
        "asset_not_verified",
    ],
)
async def test_listing_a_right_the_holder_does_not_hold(m: Market, right: str) -> None:
    rights = {
        "unknown_contract": lambda: m.land_right(contract="C-nobody"),
        "parcel_of_another_contract": lambda: m.land_right(parcels=[m.v.parcel(999)]),
        "more_units_than_held": lambda: m.shares_right(units=121),
        "holder_without_shares": lambda: m.shares_right(holder=m.outsider),
        "unknown_homestead": lambda: m.homestead_right("H-nobody"),
        "asset_not_verified": lambda: {
            "type": "collective_asset",
            "collective": m.v.village,
            "asset": "B-1",
            "category": "shop",
            "term_start": (m.today() + timedelta(days=30)).isoformat(),
            "term_end": "2030-12-31",
        },
    }
    payload = m.lot_payload(f"L-nh-{right}", rights[right]())
    await m.refused(LISTED, payload, "exchange.right_not_held")


async def test_listing_pledged_shares(m: Market) -> None:
    # The second holder pledged all but 5 of its 120 units.
    payload = m.lot_payload("L-pledged", m.shares_right(holder=m.holders[1], units=10))
    await m.refused(LISTED, payload, "exchange.right_pledged")


async def test_lease_beyond_the_remaining_contract_term(m: Market) -> None:
    payload = m.lot_payload("L-term", m.land_right(term_end="2048-01-31"))  # the contract ends 2047-12-31
    await m.refused(LISTED, payload, "exchange.term_exceeds_contract")


async def test_land_out_of_agricultural_use(m: Market) -> None:
    payload = m.lot_payload("L-use", m.land_right(agricultural_use=False))
    await m.refused(LISTED, payload, "exchange.use_change_forbidden")


@pytest.mark.parametrize("term", ["starts_before_the_listing", "ends_before_it_starts"])
async def test_lease_term_out_of_order(m: Market, term: str) -> None:
    today = m.today()
    start, end = (
        (today - timedelta(days=1), today + timedelta(days=400))
        if term == "starts_before_the_listing"
        else (today + timedelta(days=60), today + timedelta(days=59))
    )
    right = m.land_right(term_start=start.isoformat(), term_end=end.isoformat())
    await m.refused(LISTED, m.lot_payload(f"L-{term}", right), "exchange.bad_term")


async def test_parcel_named_twice(m: Market) -> None:
    (parcel,) = m.take_parcels()
    await m.refused(LISTED, m.lot_payload("L-dup", m.land_right([parcel, parcel])), "exchange.bad_parcels")


async def test_listing_parcels_under_a_lease_for_the_term(m: Market) -> None:
    parcels = m.take_parcels()
    await m.v.append(
        "land.management_transferred",
        {
            "transfer": "LEASE-rules",
            "contract": m.contract,
            "mode": "lease",
            "transferee": {k: v for k, v in m.new_entity().items() if k != "entity_type"},
            "parcels": parcels,
            "term_start": m.today().isoformat(),
            "term_end": "2035-12-31",
            "agricultural_use": True,
            "written_contract": hexdigest("lease"),
            "household_consent": hexdigest("consent"),
        },
    )
    await m.refused(LISTED, m.lot_payload("L-leased", m.land_right(parcels)), "exchange.already_transferred")


async def test_homestead_of_a_household_that_did_not_settle(m: Market) -> None:
    payload = m.lot_payload("L-unsettled", m.homestead_right(m.homesteader_homestead))
    await m.refused(LISTED, payload, "exchange.holder_not_settled")


@pytest.mark.parametrize("right", ["land", "shares", "homestead"])
async def test_listing_a_right_twice(m: Market, right: str) -> None:
    first = {
        "land": m.land_right,
        "shares": lambda: m.shares_right(units=10),
        "homestead": m.homestead_right,
    }[right]()
    await m.lot(f"L-twice-{right}", first)
    again = dict(first, units=5) if right == "shares" else first
    await m.refused(LISTED, m.lot_payload(f"L-twice-{right}-2", again), "exchange.already_listed")
    await m.withdraw(f"L-twice-{right}")  # the right is free for the other tests


async def test_listing_id_taken(m: Market) -> None:
    await m.lot("L-taken")
    await m.refused(LISTED, m.lot_payload("L-taken"), "exchange.listing_exists")


async def test_listing_by_an_exchange_without_jurisdiction(m: Market) -> None:
    payload = m.lot_payload("L-far")
    await m.refused(LISTED, payload, "exchange.no_jurisdiction", key=m.fx.keys[m.far_exchange], status=403)


async def test_listing_signed_by_a_village(m: Market) -> None:
    await m.refused(LISTED, m.lot_payload("L-village"), "exchange.not_an_exchange", key=m.v.key, status=403)


# Listing: the terms


async def test_price_per_mu_for_shares(m: Market) -> None:
    payload = m.lot_payload("L-unit", m.shares_right(), price_unit="per_mu_year", deposit_fen=200_000)
    await m.refused(LISTED, payload, "exchange.bad_price_unit")


async def test_increment_below_the_county_minimum(m: Market) -> None:
    await m.refused(LISTED, m.lot_payload("L-inc", increment_fen=9_999), "exchange.increment_too_small")


async def test_bidding_opening_inside_the_announcement(m: Market) -> None:
    opens = m.local(5)  # 7 working days are at least 9 days
    payload = m.lot_payload(
        "L-short",
        bidding_opens_at=format_time(opens),
        bidding_closes_at=format_time(opens + timedelta(hours=2)),
    )
    await m.refused(LISTED, payload, "exchange.announcement_too_short")


async def test_bidding_closing_before_it_opens(m: Market) -> None:
    payload = m.lot_payload("L-window", bidding_closes_at=format_time(m.local(14) - timedelta(minutes=1)))
    await m.refused(LISTED, payload, "exchange.bad_window")


async def test_listing_running_beyond_the_county_maximum(m: Market) -> None:
    payload = m.lot_payload("L-long", bidding_closes_at=format_time(m.local(190)))  # at most 183 days
    await m.refused(LISTED, payload, "exchange.announcement_too_long")


@pytest.mark.parametrize("share", [0.05, 0.7])
async def test_deposit_outside_the_county_range(m: Market, share: float) -> None:
    payload = m.lot_payload(
        "L-deposit", m.shares_right(), reserve_fen=1_000_000, deposit_fen=int(1_000_000 * share)
    )
    await m.refused(LISTED, payload, "exchange.bad_deposit")


async def test_deal_beyond_the_largest_value(m: Market) -> None:
    payload = m.lot_payload("L-huge", reserve_fen=10**13, deposit_fen=10**12)  # per 亩 per year, 14 years
    await m.refused(LISTED, payload, "exchange.value_too_large")


# Relisting


async def failed_with_defaulter(m: Market, listing: str) -> tuple[int, int]:
    """A listing whose two entity bidders paid; the first withdrew (forfeit, barred), nobody
    bid, and it failed."""
    quitter, other = await m.bidding(listing)
    await m.default(listing, quitter, "withdrawal_after_qualification")
    await m.after_close(listing)
    await m.fail(listing)
    return quitter, other


async def test_relisting_cuts_the_reserve_too_deep(m: Market) -> None:
    await failed_with_defaulter(m, "L-cut")
    right = m.payloads["L-cut"]["right"]
    payload = m.lot_payload("L-cut-2", right, reserve_fen=63_999, relisting_of="L-cut")  # 20% at most
    await m.refused(LISTED, payload, "exchange.reserve_cut_too_deep")


async def test_relisting_a_listing_that_did_not_fail(m: Market) -> None:
    payload = await m.lot("L-running")
    again = m.lot_payload("L-running-2", payload["right"], relisting_of="L-running")
    await m.refused(LISTED, again, "exchange.not_relistable")


async def test_relisting_an_unknown_listing(m: Market) -> None:
    await m.refused(LISTED, m.lot_payload("L-orphan", relisting_of="L-nowhere"), "exchange.unknown_listing")


async def test_defaulter_registering_for_the_relisting(m: Market) -> None:
    quitter, _ = await failed_with_defaulter(m, "L-bar")
    row = await m.bidder_row("L-bar", quitter)
    assert (row["deposit"], row["forfeit_reason"]) == ("forfeited", "withdrawal_after_qualification")
    await m.lot("L-bar-2", m.payloads["L-bar"]["right"], reserve_fen=70_000, relisting_of="L-bar")
    assert row["bidder"] in (await m.listing_row("L-bar-2"))["barred"]
    defaulter = {**entity(0, row["bidder_name"]), "credit_code": row["bidder"]}
    await m.refused(REGISTERED, m.registration("L-bar-2", defaulter), "exchange.bidder_barred")
    await m.register_entity("L-bar-2")  # anyone else may


async def test_defaulter_bidding_after_its_withdrawal(m: Market) -> None:
    quitter, other, _ = await m.bidding("L-quit", bidders=3)
    await m.default("L-quit", quitter, "withdrawal_after_qualification")
    await m.refused(BID, bid("L-quit", quitter, 100_000), "exchange.bidder_barred")
    await m.bid("L-quit", other, 100_000)


# Registration and deposits


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("outsider", "exchange.bidder_not_member"),
        ("entity", "exchange.bidder_not_member"),
        ("rich", "exchange.over_holder_cap"),
        ("holder", "exchange.bidder_is_holder"),
    ],
)
async def test_shares_to_an_unqualified_bidder(m: Market, who: str, code: str) -> None:
    listing = f"L-sh-{who}"
    await m.lot(listing, m.shares_right(units=10))
    bidder: str | dict[str, Any] = {
        "outsider": m.outsider,
        "entity": m.new_entity(),
        "rich": m.rich,
        "holder": m.holders[0],
    }[who]
    await m.refused(REGISTERED, m.registration(listing, bidder), code)
    await m.register(listing, m.buyers[0])  # a member of the collective below the cap qualifies
    await m.withdraw(listing)


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("outsider", "exchange.bidder_not_member"),
        ("entity", "exchange.bidder_not_member"),
        ("household_with_a_homestead", "exchange.bidder_not_qualified"),
        ("holder", "exchange.bidder_is_holder"),
    ],
)
async def test_homestead_to_an_unqualified_bidder(m: Market, who: str, code: str) -> None:
    listing = f"L-hs-{who}"
    await m.lot(listing, m.homestead_right())
    bidder: str | dict[str, Any] = {
        "outsider": m.outsider,
        "entity": m.new_entity(),
        "household_with_a_homestead": m.homesteader,
        "holder": m.holders[1],
    }[who]
    await m.refused(REGISTERED, m.registration(listing, bidder), code)
    await m.register(listing, m.buyers[0])  # a member household without a homestead qualifies
    await m.withdraw(listing)


@pytest.mark.parametrize("who", ["member", "entity"])
async def test_land_bidder_without_agricultural_capacity(m: Market, who: str) -> None:
    listing = f"L-cap-{who}"
    await m.lot(listing)
    bidder = m.buyers[0] if who == "member" else m.new_entity()
    payload = m.registration(listing, bidder, capacity=False)
    await m.refused(REGISTERED, payload, "exchange.no_agricultural_capacity")


async def test_entity_of_a_type_the_listing_does_not_admit(m: Market) -> None:
    await m.lot("L-types", qualifications={"entity_types": ["family_farm"]})
    payload = m.registration("L-types", m.new_entity(entity_type="cooperative"))
    await m.refused(REGISTERED, payload, "exchange.bidder_not_qualified")


async def test_non_member_for_a_members_only_listing(m: Market) -> None:
    await m.lot("L-members", qualifications={"members_only": True})
    await m.refused(REGISTERED, m.registration("L-members", m.outsider), "exchange.bidder_not_member")


async def test_unregistered_party(m: Market) -> None:
    await m.lot("L-ghost")
    await m.refused(REGISTERED, m.registration("L-ghost", str(uuid.uuid4())), "exchange.unknown_bidder")


async def test_bidder_registered_twice(m: Market) -> None:
    await m.lot("L-again")
    bidder = m.new_entity()
    await m.register("L-again", bidder=bidder)
    await m.refused(REGISTERED, m.registration("L-again", bidder), "exchange.already_registered")


async def test_registration_after_bidding_opened(m: Market, closed: dict[str, int]) -> None:
    payload = m.registration("L-closed", m.new_entity())
    await m.refused(REGISTERED, payload, "exchange.registration_closed")


async def test_registration_for_a_withdrawn_listing(m: Market) -> None:
    await m.lot("L-gone")
    await m.withdraw("L-gone")
    await m.refused(REGISTERED, m.registration("L-gone", m.new_entity()), "exchange.listing_not_open")


async def test_registration_for_an_unknown_listing(m: Market) -> None:
    payload = m.registration("L-nowhere", m.new_entity())
    await m.refused(REGISTERED, payload, "exchange.unknown_listing", status=404)


async def test_registration_by_another_exchange(m: Market, closed: dict[str, int]) -> None:
    payload = m.registration("L-closed", m.new_entity())
    await m.refused(
        REGISTERED, payload, "exchange.not_listing_exchange", key=m.fx.keys[m.far_exchange], status=403
    )


async def test_deposit_received_twice(m: Market) -> None:
    payload = await m.lot("L-dep2")
    number = await m.register_entity("L-dep2")
    await m.refused(
        "exchange.deposit_received",
        deposit("L-dep2", number, payload["deposit_fen"]),
        "exchange.deposit_exists",
    )


async def test_deposit_of_another_amount(m: Market) -> None:
    payload = await m.lot("L-dep-amount")
    number = await m.register_entity("L-dep-amount", deposit=False)
    await m.refused(
        "exchange.deposit_received",
        deposit("L-dep-amount", number, payload["deposit_fen"] - 1),
        "exchange.wrong_deposit",
    )


async def test_deposit_after_bidding_opened(m: Market, closed: dict[str, int]) -> None:
    amount = m.payloads["L-closed"]["deposit_fen"]
    await m.refused(
        "exchange.deposit_received",
        deposit("L-closed", closed["unpaid"], amount),
        "exchange.registration_closed",
    )


async def test_deposit_for_an_unknown_bidder(m: Market, closed: dict[str, int]) -> None:
    amount = m.payloads["L-closed"]["deposit_fen"]
    await m.refused("exchange.deposit_received", deposit("L-closed", 99, amount), "exchange.unknown_bidder")


# Bids


async def test_bid_below_the_increment(m: Market) -> None:
    a, b = await m.bidding("L-incr")
    await m.bid("L-incr", a, 80_000)
    await m.refused(BID, bid("L-incr", b, 89_999), "exchange.bid_below_increment")
    await m.bid("L-incr", b, 90_000)


async def test_bid_below_the_reserve(m: Market) -> None:
    a, _ = await m.bidding("L-reserve")
    await m.refused(BID, bid("L-reserve", a, 79_999), "exchange.bid_below_reserve")


async def test_bid_before_the_window(m: Market) -> None:
    await m.lot("L-early")
    a, _ = [await m.register_entity("L-early") for _ in range(2)]
    m.open_bidding("L-early", minutes=-1)
    await m.refused(BID, bid("L-early", a, 80_000), "exchange.bidding_not_open")
    m.open_bidding("L-early")
    await m.bid("L-early", a, 80_000)


async def test_bid_after_the_close(m: Market, closed: dict[str, int]) -> None:
    await m.refused(BID, bid("L-closed", closed["e1"], 100_000), "exchange.bidding_closed")


async def test_bid_without_a_deposit(m: Market, closed: dict[str, int]) -> None:
    await m.refused(BID, bid("L-closed", closed["unpaid"], 100_000), "exchange.no_deposit")


async def test_bid_by_an_unknown_bidder(m: Market, closed: dict[str, int]) -> None:
    await m.refused(BID, bid("L-closed", 99, 100_000), "exchange.unknown_bidder")


async def test_bid_on_an_unknown_listing(m: Market) -> None:
    await m.refused(BID, bid("L-nowhere", 1, 100_000), "exchange.unknown_listing", status=404)


@pytest.mark.parametrize("signer", ["village", "another_exchange"])
async def test_bid_signed_by_an_organisation_not_running_the_listing(
    m: Market, closed: dict[str, int], signer: str
) -> None:
    key = m.v.key if signer == "village" else m.fx.keys[m.far_exchange]
    payload = bid("L-closed", closed["e2"], 100_000)
    await m.refused(BID, payload, "exchange.not_listing_exchange", key=key, status=403)


async def test_second_quote_by_agreement(m: Market) -> None:
    (only,) = await m.bidding("L-agree", bidders=1)
    await m.bid("L-agree", only, 80_000)
    await m.refused(BID, bid("L-agree", only, 90_000), "exchange.single_quote_only")


async def test_open_bid_on_a_sealed_listing(m: Market) -> None:
    a, _ = await m.bidding("L-sealed-bid", method="sealed")
    await m.refused(BID, bid("L-sealed-bid", a, 80_000), "exchange.sealed_listing")


async def test_bid_beyond_the_largest_deal(m: Market) -> None:
    a, _ = await m.bidding("L-bigbid")
    await m.refused(BID, bid("L-bigbid", a, 10**13), "exchange.value_too_large")


# Holds


async def test_acts_on_a_held_listing(m: Market) -> None:
    a, b = await m.bidding("L-held")
    await m.bid("L-held", a, 80_000)
    await m.hold("L-held")
    newcomer = m.registration("L-held", m.new_entity())
    for kind, payload in [
        (BID, bid("L-held", b, 90_000)),
        (REGISTERED, newcomer),
        ("exchange.deposit_received", deposit("L-held", b, m.payloads["L-held"]["deposit_fen"])),
        ("exchange.defaulted", m.default_payload("L-held", b, "withdrawal_after_qualification")),
        ("exchange.quote_sealed", act("L-held", bidder=b, commitment=hexdigest("q"))),
        ("exchange.extended", act("L-held")),
    ]:
        await m.refused(kind, payload, "exchange.listing_held")
    closes = (await m.listing_row("L-held"))["closes_at"]
    await m.after_close("L-held")
    for kind, payload in [(AWARDED, bid("L-held", a, 80_000)), ("exchange.failed", act("L-held"))]:
        await m.refused(kind, payload, "exchange.listing_held")
    held_at = parse_time((await m.listing_row("L-held"))["held_at"])
    await m.lift("L-held")
    # Lifting the hold moves the close by the time it was held: the bidding goes on.
    moved = parse_time((await m.listing_row("L-held"))["closes_at"])
    assert moved == parse_time(closes) + (m.now() - held_at)
    await m.bid("L-held", b, 90_000)


async def test_extension_of_a_held_listing(m: Market) -> None:
    """Nobody came, but a dispute holds the listing: nothing moves on it, not even the
    announcement's cycle, until the hold is lifted."""
    await m.lot("L-held-ext")
    m.open_bidding("L-held-ext")
    await m.hold("L-held-ext")
    await m.refused("exchange.extended", act("L-held-ext"), "exchange.listing_held")
    await m.lift("L-held-ext")
    await m.extend("L-held-ext")


async def test_hold_twice(m: Market) -> None:
    await m.lot("L-hold2")
    await m.hold("L-hold2")
    again = act("L-hold2", reason="court_order", document=hexdigest("order"))
    await m.refused("exchange.held", again, "exchange.already_held")


async def test_lift_a_hold_never_made(m: Market) -> None:
    await m.lot("L-nohold")
    await m.refused("exchange.hold_lifted", act("L-nohold", document=hexdigest("lift")), "exchange.not_held")


# Priority rights


async def priority_listing(m: Market, listing: str, model: str) -> tuple[int, int, int]:
    """A listing under the priority ``model`` (fixed when listed; the county's number is set
    back to tie priority after it), with a member (a priority holder) and two entities who
    paid the deposit: their numbers."""
    await m.set_policy(priority_model=model)
    try:
        await m.lot(listing)
    finally:
        await m.set_policy(priority_model="tie")
    assert (await m.listing_row(listing))["priority_model"] == model
    member = await m.register(listing, m.buyers[0])
    e1, e2 = await m.register_entity(listing), await m.register_entity(listing)
    assert (await m.bidder_row(listing, member))["priority"]
    return member, e1, e2


async def test_priority_match_under_tie_priority(m: Market, closed: dict[str, int]) -> None:
    payload = bid("L-closed", closed["member"], 90_000)
    await m.refused(MATCHED, payload, "exchange.priority_model_other")


async def test_priority_match_by_a_bidder_without_priority(m: Market, closed: dict[str, int]) -> None:
    await m.refused(MATCHED, bid("L-closed", closed["e1"], 90_000), "exchange.no_priority")


async def test_in_auction_match_before_bidding_opens(m: Market) -> None:
    member, _, _ = await priority_listing(m, "L-A-early", "in_auction_match")
    await m.refused(MATCHED, bid("L-A-early", member, 80_000), "exchange.bidding_not_open")


async def test_in_auction_match_of_another_amount(m: Market) -> None:
    member, e1, _ = await priority_listing(m, "L-A-amount", "in_auction_match")
    m.open_bidding("L-A-amount")
    await m.bid("L-A-amount", e1, 80_000)
    await m.refused(MATCHED, bid("L-A-amount", member, 70_000), "exchange.match_not_equal")
    await m.match("L-A-amount", member, 80_000)
    assert (await m.listing_row("L-A-amount"))["high_bidder"] == member


async def test_in_auction_match_of_its_own_high_bid(m: Market) -> None:
    member, e1, _ = await priority_listing(m, "L-A-own", "in_auction_match")
    m.open_bidding("L-A-own")
    await m.bid("L-A-own", e1, 80_000)
    await m.match("L-A-own", member, 80_000)
    await m.refused(MATCHED, bid("L-A-own", member, 80_000), "exchange.nothing_to_match")


async def test_in_auction_match_after_the_response_window(m: Market) -> None:
    member, e1, _ = await priority_listing(m, "L-A-late", "in_auction_match")
    m.open_bidding("L-A-late")
    await m.bid("L-A-late", e1, 80_000)
    m.move_to(m.now() + timedelta(minutes=10))  # the window is 10 minutes
    await m.refused(MATCHED, bid("L-A-late", member, 80_000), "exchange.match_window_over")


async def post_close(m: Market, listing: str) -> tuple[int, int, int]:
    member, e1, e2 = await priority_listing(m, listing, "post_close_match")
    m.open_bidding(listing)
    await m.bid(listing, e1, 80_000)
    await m.bid(listing, e2, 90_000)
    return member, e1, e2


async def test_post_close_match_before_the_close(m: Market) -> None:
    member, _, _ = await post_close(m, "L-C-early")
    await m.refused(MATCHED, bid("L-C-early", member, 90_000), "exchange.not_closed")


async def test_award_while_a_priority_holder_may_still_match(m: Market) -> None:
    _, _, e2 = await post_close(m, "L-C-wait")
    await m.after_close("L-C-wait")
    await m.refused(AWARDED, bid("L-C-wait", e2, 90_000), "exchange.not_closed")


async def test_post_close_match_twice(m: Market) -> None:
    member, _, _ = await post_close(m, "L-C-twice")
    await m.after_close("L-C-twice")
    await m.match("L-C-twice", member, 90_000)
    await m.refused(MATCHED, bid("L-C-twice", member, 90_000), "exchange.already_matched")
    await m.award("L-C-twice", member, 90_000)  # the match outranks the bid it matched


async def test_post_close_match_after_the_deadline(m: Market) -> None:
    member, _, e2 = await post_close(m, "L-C-late")
    await m.after_close("L-C-late", minutes=7 * 24 * 60)  # 3 working days are at most 5 days
    await m.refused(MATCHED, bid("L-C-late", member, 90_000), "exchange.match_window_over")
    await m.award("L-C-late", e2, 90_000)


# Sealed quotes


async def test_sealed_quote_on_an_auction(m: Market, closed: dict[str, int]) -> None:
    payload = act("L-closed", bidder=closed["e1"], commitment=hexdigest("q"))
    await m.refused("exchange.quote_sealed", payload, "exchange.not_sealed")


async def test_sealed_quote_by_the_sole_bidder(m: Market) -> None:
    (only,) = await m.bidding("L-S-sole", bidders=1, method="sealed")
    payload = act("L-S-sole", bidder=only, commitment=quote_commitment("L-S-sole", only, 80_000, SALT))
    await m.refused("exchange.quote_sealed", payload, "exchange.agreement_quote")


async def test_second_sealed_quote(m: Market) -> None:
    a, _ = await m.bidding("L-S-twice", method="sealed")
    await m.seal("L-S-twice", a, 90_000)
    payload = act("L-S-twice", bidder=a, commitment=quote_commitment("L-S-twice", a, 95_000, SALT))
    await m.refused("exchange.quote_sealed", payload, "exchange.already_quoted")


async def test_quote_opened_before_the_close(m: Market) -> None:
    a, _ = await m.bidding("L-S-early", method="sealed")
    await m.seal("L-S-early", a, 90_000)
    await m.refused("exchange.quote_opened", opened("L-S-early", a, 90_000), "exchange.quotes_not_due")


async def test_quote_opened_after_the_opening_time(m: Market) -> None:
    a, b = await m.bidding("L-S-late", method="sealed")
    await m.seal("L-S-late", a, 90_000)
    await m.seal("L-S-late", b, 95_000)
    await m.after_close("L-S-late", minutes=120)  # quotes are opened within 120 minutes
    await m.refused("exchange.quote_opened", opened("L-S-late", a, 90_000), "exchange.opening_over")


async def sealed_and_closed(m: Market, listing: str, quotes: tuple[int, ...]) -> list[int]:
    numbers = await m.bidding(listing, bidders=len(quotes) + 1, method="sealed")
    for number, amount in zip(numbers, quotes, strict=False):
        await m.seal(listing, number, amount)
    await m.after_close(listing)
    return numbers


async def test_quote_not_matching_its_commitment(m: Market) -> None:
    a, _, _ = await sealed_and_closed(m, "L-S-wrong", (90_000, 95_000))
    await m.refused("exchange.quote_opened", opened("L-S-wrong", a, 90_001), "exchange.commitment_mismatch")
    await m.open_quote("L-S-wrong", a, 90_000)


async def test_quote_opened_twice(m: Market) -> None:
    a, _, _ = await sealed_and_closed(m, "L-S-again", (90_000, 95_000))
    await m.open_quote("L-S-again", a, 90_000)
    await m.refused("exchange.quote_opened", opened("L-S-again", a, 90_000), "exchange.already_opened")


async def test_opening_a_quote_never_sealed(m: Market) -> None:
    _, _, silent = await sealed_and_closed(m, "L-S-none", (90_000, 95_000))
    await m.refused("exchange.quote_opened", opened("L-S-none", silent, 90_000), "exchange.no_sealed_quote")


async def test_quote_below_the_reserve(m: Market) -> None:
    low, _, _ = await sealed_and_closed(m, "L-S-low", (79_999, 95_000))
    await m.refused("exchange.quote_opened", opened("L-S-low", low, 79_999), "exchange.bid_below_reserve")


# Award, failure, extension, withdrawal


async def test_award_to_the_wrong_party(m: Market, closed: dict[str, int]) -> None:
    await m.refused(AWARDED, bid("L-closed", closed["e1"], 90_000), "exchange.wrong_winner")


@pytest.mark.parametrize("amount", [80_000, 100_000])
async def test_award_at_the_wrong_price(m: Market, closed: dict[str, int], amount: int) -> None:
    await m.refused(AWARDED, bid("L-closed", closed["e2"], amount), "exchange.wrong_price")


async def test_award_before_the_close(m: Market) -> None:
    a, _ = await m.bidding("L-soon")
    await m.bid("L-soon", a, 80_000)
    await m.refused(AWARDED, bid("L-soon", a, 80_000), "exchange.not_closed")


async def test_award_without_a_valid_bid(m: Market) -> None:
    a, _ = await m.bidding("L-nobid")
    await m.after_close("L-nobid")
    await m.refused(AWARDED, bid("L-nobid", a, 80_000), "exchange.no_valid_bid")


async def test_award_twice(m: Market, awarded: list[int]) -> None:
    await m.refused(AWARDED, bid("L-awarded", awarded[1], 90_000), "exchange.wrong_stage")


async def test_failing_a_listing_with_a_valid_bid(m: Market, closed: dict[str, int]) -> None:
    await m.refused("exchange.failed", act("L-closed"), "exchange.has_valid_bid")


async def test_failing_before_the_close(m: Market) -> None:
    await m.bidding("L-early-fail")
    await m.refused("exchange.failed", act("L-early-fail"), "exchange.not_closed")


async def test_failing_a_listing_nobody_came_to(m: Market) -> None:
    await m.lot("L-nobody")
    await m.after_close("L-nobody")
    await m.refused("exchange.failed", act("L-nobody"), "exchange.extend_instead")
    await m.extend("L-nobody")


async def test_extension_during_the_announcement(m: Market) -> None:
    await m.lot("L-ext-early")
    await m.refused("exchange.extended", act("L-ext-early"), "exchange.announcement_running")


async def test_extension_with_a_bidder(m: Market, closed: dict[str, int]) -> None:
    await m.refused("exchange.extended", act("L-closed"), "exchange.has_bidders")


async def test_extension_beyond_the_longest_run(m: Market) -> None:
    await m.lot("L-ext-long", bidding_closes_at=format_time(m.local(180)))
    m.open_bidding("L-ext-long")
    await m.refused("exchange.extended", act("L-ext-long"), "exchange.announcement_too_long")


async def test_withdrawal_after_the_first_bid(m: Market, closed: dict[str, int]) -> None:
    payload = act("L-closed", reason="holder_request", document=hexdigest("w"))
    await m.refused("exchange.withdrawn", payload, "exchange.has_bids")


async def test_withdrawal_twice(m: Market) -> None:
    await m.lot("L-w2")
    await m.withdraw("L-w2")
    payload = act("L-w2", reason="holder_request", document=hexdigest("w"))
    await m.refused("exchange.withdrawn", payload, "exchange.listing_not_open")


# Contract, default, payment, refunds, certificate


async def test_contract_before_the_award(m: Market, closed: dict[str, int]) -> None:
    await m.refused(
        "exchange.contract_signed", act("L-closed", contract=hexdigest("c")), "exchange.wrong_stage"
    )


async def test_contract_after_its_deadline(m: Market, awarded: list[int]) -> None:
    due = (await m.listing_row("L-awarded"))["contract_due"]
    m.move_to(m.local((due - m.today()).days + 1))
    payload = act("L-awarded", contract=hexdigest("c"))
    await m.refused("exchange.contract_signed", payload, "exchange.contract_overdue")


async def test_default_the_state_does_not_show(m: Market, awarded: list[int]) -> None:
    payload = m.default_payload("L-awarded", awarded[1], "non_payment")  # no contract yet
    await m.refused("exchange.defaulted", payload, "exchange.default_not_shown")


async def test_default_of_a_bidder_without_deposit(m: Market, closed: dict[str, int]) -> None:
    payload = m.default_payload("L-closed", closed["unpaid"], "withdrawal_after_qualification")
    await m.refused("exchange.defaulted", payload, "exchange.no_deposit")


async def test_payment_before_the_contract(m: Market, awarded: list[int]) -> None:
    await m.refused("exchange.payment_confirmed", m.payment("L-awarded", 1), "exchange.wrong_stage")


async def test_payment_of_another_amount(m: Market) -> None:
    await m.awarded("L-pay")
    await m.sign_contract("L-pay")
    due = await m.payment_due("L-pay")
    for amount in (due - 1, due + 1):
        await m.refused("exchange.payment_confirmed", m.payment("L-pay", amount), "exchange.wrong_payment")
    await m.pay("L-pay")


async def test_payment_confirmed_twice(m: Market, certified: list[int]) -> None:
    payload = m.payment("L-deal", await m.payment_due("L-deal"))
    await m.refused("exchange.payment_confirmed", payload, "exchange.already_settled")


async def test_refund_before_the_outcome(m: Market, closed: dict[str, int]) -> None:
    payload = m.refund_payload("L-closed", closed["e1"])
    await m.refused("exchange.deposit_refunded", payload, "exchange.refund_too_early")


async def test_refund_of_the_winner_deposit(m: Market, awarded: list[int]) -> None:
    payload = m.refund_payload("L-awarded", awarded[1])
    await m.refused("exchange.deposit_refunded", payload, "exchange.winner_deposit")


async def test_refund_twice(m: Market, certified: list[int]) -> None:
    payload = m.refund_payload("L-deal", certified[0])
    await m.refused("exchange.deposit_refunded", payload, "exchange.already_refunded")


async def test_refund_of_a_deposit_credited_to_the_price(m: Market, certified: list[int]) -> None:
    payload = m.refund_payload("L-deal", certified[1])
    await m.refused("exchange.deposit_refunded", payload, "exchange.not_refundable")


async def test_certificate_before_payment(m: Market, awarded: list[int]) -> None:
    payload = act("L-awarded", certificate_no="JY-early")
    await m.refused("exchange.certificate_issued", payload, "exchange.wrong_stage")


async def test_certificate_twice(m: Market, certified: list[int]) -> None:
    assert m.db is not None
    moved = await m.db.fetchrow("SELECT * FROM management_transfers WHERE id = 'exchange:L-deal'")
    winner = await m.bidder_row("L-deal", certified[1])
    assert moved is not None and moved["transferee"] == winner["bidder"]
    payload = act("L-deal", certificate_no="JY-again")
    await m.refused("exchange.certificate_issued", payload, "exchange.already_certified")


# The working-day calendar


def calendar(
    year: int = 2027, holidays: tuple[str, ...] = (), weekend: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {"year": year, "holidays": list(holidays), "working_weekend_days": list(weekend)}


async def test_calendar_declared_by_an_exchange(m: Market) -> None:
    await m.refused(
        "calendar.declared", calendar(holidays=("2027-10-01",)), "calendar.not_a_county", status=403
    )


@pytest.mark.parametrize(
    ("days", "code"),
    [
        (calendar(holidays=("2028-01-03",)), "calendar.wrong_year"),
        (calendar(holidays=("2027-10-01", "2027-10-01")), "calendar.duplicate_day"),
        (calendar(holidays=("2027-10-09",), weekend=("2027-10-09",)), "calendar.duplicate_day"),
        (calendar(weekend=("2027-10-11",)), "calendar.not_a_weekend_day"),  # a Monday
    ],
)
async def test_calendar_refused(m: Market, days: dict[str, Any], code: str) -> None:
    await m.refused("calendar.declared", days, code, key=m.fx.keys["county"])
