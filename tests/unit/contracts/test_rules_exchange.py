"""The exchange's rules in memory: a listing through bids, award, contract, payment, refunds
and the certificate that moves the right."""

from __future__ import annotations

from contracts.exchange.tables import Listing
from contracts.homesteads import Homestead
from contracts.households import Household, HouseholdMember
from contracts.land import ManagementTransfer
from contracts.shares import ShareHolding
from tests.registry_support import hexdigest
from tests.unit.contracts.exchange_support import Market
from tests.unit.contracts.harness import Harness


def test_an_auction_from_listing_to_certificate(h: Harness) -> None:
    m = Market.build(h)
    listing = m.list()
    assert listing.priority_collective == m.village and listing.status == "announced"
    a = m.register("L-1", m.buyers[0])
    b = m.register("L-1", entity=True)
    assert m.bidder("L-1", a).priority and not m.bidder("L-1", b).priority
    m.open_bidding("L-1")
    m.bid("L-1", b, 80_000)
    h.refused(
        "exchange.bid_below_increment",
        m.exchange,
        "exchange.bid",
        {"listing": "L-1", "bidder": a, "amount_fen": 85_000},
    )
    m.bid("L-1", a, 80_000)  # tie priority: the member's equal bid outranks
    assert m.listing().high_bidder == a
    m.bid("L-1", b, 90_000)
    assert m.listing().high_bidder == b
    m.after_close("L-1")
    h.refused(
        "exchange.wrong_winner",
        m.exchange,
        "exchange.awarded",
        {"listing": "L-1", "bidder": a, "amount_fen": 80_000},
    )
    h.refused(
        "exchange.wrong_price",
        m.exchange,
        "exchange.awarded",
        {"listing": "L-1", "bidder": b, "amount_fen": 80_000},
    )
    h.submit(m.exchange, "exchange.awarded", {"listing": "L-1", "bidder": b, "amount_fen": 90_000})
    row = m.listing()
    assert row.value_fen and row.buyer_fee_fen and row.seller_fee_fen == 0
    h.submit(m.exchange, "exchange.contract_signed", {"listing": "L-1", "contract": hexdigest("contract")})
    h.refused(
        "exchange.winner_deposit",
        m.exchange,
        "exchange.deposit_refunded",
        {"listing": "L-1", "bidder": b, "bank_reference": hexdigest("r")},
    )
    due = row.value_fen - m.bidder("L-1", b).deposit_fen + row.buyer_fee_fen
    h.refused(
        "exchange.wrong_payment",
        m.exchange,
        "exchange.payment_confirmed",
        {"listing": "L-1", "amount_fen": due + 1, "bank_reference": hexdigest("pay")},
    )
    h.submit(
        m.exchange,
        "exchange.payment_confirmed",
        {"listing": "L-1", "amount_fen": due, "bank_reference": hexdigest("pay")},
    )
    h.refused(
        "exchange.already_settled",
        m.exchange,
        "exchange.payment_confirmed",
        {"listing": "L-1", "amount_fen": due, "bank_reference": hexdigest("pay")},
    )
    h.submit(
        m.exchange,
        "exchange.deposit_refunded",
        {"listing": "L-1", "bidder": a, "bank_reference": hexdigest("r")},
    )
    h.refused(
        "exchange.already_refunded",
        m.exchange,
        "exchange.deposit_refunded",
        {"listing": "L-1", "bidder": a, "bank_reference": hexdigest("r")},
    )
    changes = h.submit(
        m.exchange, "exchange.certificate_issued", {"listing": "L-1", "certificate_no": "JY-2026-0001"}
    )
    moved = changes.one(ManagementTransfer)
    assert moved.transferee == m.bidder("L-1", b).bidder and moved.parcels == m.parcels
    assert h.row(Listing, "L-1").status == "certified"
    h.refused(
        "exchange.already_certified",
        m.exchange,
        "exchange.certificate_issued",
        {"listing": "L-1", "certificate_no": "JY-2026-0002"},
    )
    h.refused("exchange.already_transferred", m.exchange, "exchange.listed", m.listing_payload("L-2"))


def test_late_bid_moves_the_close(h: Harness) -> None:
    m = Market.build(h)
    m.list()
    a, b = m.register("L-1", m.buyers[0]), m.register("L-1", m.buyers[1])
    closes = m.listing().closes_at
    m.after_close("L-1", minutes=-2)
    m.bid("L-1", a, 80_000)
    assert m.listing().closes_at > closes
    h.advance(minutes=4)
    m.bid("L-1", b, 90_000)
    h.advance(minutes=6)
    h.refused(
        "exchange.bidding_closed",
        m.exchange,
        "exchange.bid",
        {"listing": "L-1", "bidder": a, "amount_fen": 100_000},
    )


def test_sealed_quotes_and_agreement(h: Harness) -> None:
    m = Market.build(h)
    m.list(method="sealed")
    a, b = m.register("L-1", m.buyers[0]), m.register("L-1", entity=True)
    m.open_bidding("L-1")
    m.seal("L-1", b, 120_000)
    m.seal("L-1", a, 120_000, salt="cd" * 16)
    m.after_close("L-1")
    h.refused(
        "exchange.commitment_mismatch",
        m.exchange,
        "exchange.quote_opened",
        {"listing": "L-1", "bidder": b, "amount_fen": 120_001, "salt": "ab" * 16},
    )
    m.open_quote("L-1", b, 120_000)
    m.open_quote("L-1", a, 120_000, salt="cd" * 16)
    assert m.listing().high_bidder == a  # the priority holder's equal quote outranks
    h.submit(m.exchange, "exchange.awarded", {"listing": "L-1", "bidder": a, "amount_fen": 120_000})
    # A second listing with one bidder goes by agreement.
    m2 = Market.build(h)
    m2.list("L-9")
    only = m2.register("L-9", m2.buyers[0])
    m2.open_bidding("L-9")
    h.refused(
        "exchange.bid_below_reserve",
        m2.exchange,
        "exchange.bid",
        {"listing": "L-9", "bidder": only, "amount_fen": 79_999},
    )
    m2.bid("L-9", only, 80_000)
    h.refused(
        "exchange.single_quote_only",
        m2.exchange,
        "exchange.bid",
        {"listing": "L-9", "bidder": only, "amount_fen": 90_000},
    )
    h.submit(m2.exchange, "exchange.awarded", {"listing": "L-9", "bidder": only, "amount_fen": 80_000})


def test_failed_relisted_and_defaulter_barred(h: Harness) -> None:
    m = Market.build(h)
    m.list()
    m.register("L-1", m.buyers[0])
    m.register("L-1", m.buyers[1])
    m.after_close("L-1")
    h.submit(m.exchange, "exchange.failed", {"listing": "L-1"})
    h.refused(
        "exchange.reserve_cut_too_deep",
        m.exchange,
        "exchange.listed",
        m.listing_payload("L-2", reserve_fen=60_000, relisting_of="L-1"),
    )
    h.submit(m.exchange, "exchange.listed", m.listing_payload("L-2", reserve_fen=70_000, relisting_of="L-1"))
    c = m.register("L-2", m.buyers[0])
    d = m.register("L-2", m.buyers[2])
    m.open_bidding("L-2")
    m.bid("L-2", c, 70_000)
    m.bid("L-2", d, 80_000)
    m.after_close("L-2")
    h.submit(m.exchange, "exchange.awarded", {"listing": "L-2", "bidder": d, "amount_fen": 80_000})
    h.advance(days=10)
    h.submit(
        m.exchange,
        "exchange.defaulted",
        {"listing": "L-2", "bidder": d, "reason": "refused_contract", "document": hexdigest("d")},
    )
    assert m.listing("L-2").status == "announced"  # tie priority: the runner-up takes over
    h.submit(m.exchange, "exchange.awarded", {"listing": "L-2", "bidder": c, "amount_fen": 70_000})
    assert m.buyers[2] in m.listing("L-2").barred


def test_in_auction_matching(h: Harness) -> None:
    m = Market.build(h, priority_model="in_auction_match")
    m.list()
    a, b = m.register("L-1", m.buyers[0]), m.register("L-1", entity=True)
    m.open_bidding("L-1")
    m.bid("L-1", b, 80_000)
    h.refused(
        "exchange.match_not_equal",
        m.exchange,
        "exchange.priority_matched",
        {"listing": "L-1", "bidder": a, "amount_fen": 70_000},
    )
    h.submit(m.exchange, "exchange.priority_matched", {"listing": "L-1", "bidder": a, "amount_fen": 80_000})
    assert m.listing().high_bidder == a
    m.bid("L-1", b, 90_000)
    h.advance(minutes=11)
    h.refused(
        "exchange.match_window_over",
        m.exchange,
        "exchange.priority_matched",
        {"listing": "L-1", "bidder": a, "amount_fen": 90_000},
    )


def test_post_close_matching(h: Harness) -> None:
    m = Market.build(h, priority_model="post_close_match")
    m.list()
    a, b = m.register("L-1", m.buyers[0]), m.register("L-1", entity=True)
    m.open_bidding("L-1")
    m.bid("L-1", b, 80_000)
    h.refused(
        "exchange.not_closed",
        m.exchange,
        "exchange.priority_matched",
        {"listing": "L-1", "bidder": a, "amount_fen": 80_000},
    )
    m.after_close("L-1")
    h.refused(
        "exchange.not_closed",
        m.exchange,
        "exchange.awarded",
        {"listing": "L-1", "bidder": b, "amount_fen": 80_000},
    )
    h.submit(m.exchange, "exchange.priority_matched", {"listing": "L-1", "bidder": a, "amount_fen": 80_000})
    h.submit(m.exchange, "exchange.awarded", {"listing": "L-1", "bidder": a, "amount_fen": 80_000})


def _sell(h: Harness, m: Market, listing: str, winner: int, amount: int) -> None:
    """Award to ``winner`` at ``amount`` after the close, then contract, payment and certificate."""
    m.after_close(listing)
    h.submit(m.exchange, "exchange.awarded", {"listing": listing, "bidder": winner, "amount_fen": amount})
    h.submit(m.exchange, "exchange.contract_signed", {"listing": listing, "contract": hexdigest("contract")})
    row = m.listing(listing)
    assert row.value_fen is not None and row.buyer_fee_fen is not None
    due = row.value_fen - m.bidder(listing, winner).deposit_fen + row.buyer_fee_fen
    pay = {"listing": listing, "amount_fen": due, "bank_reference": hexdigest("pay")}
    h.submit(m.exchange, "exchange.payment_confirmed", pay)
    h.submit(
        m.exchange, "exchange.certificate_issued", {"listing": listing, "certificate_no": f"JY-{listing}"}
    )


def test_shares_go_to_a_member_and_move_on_the_certificate(h: Harness) -> None:
    village = h.collective()
    h.set_policy(holder_share_cap_bp=2000)
    members = h.quantified(village, households=6, size=2)
    exchange = h.exchange_center()
    m = Market(h, village=village, exchange=exchange)
    seller, buyer = members[0][1], members[2][1]
    outsider = h.person(village)
    right = {"type": "shares", "collective": village, "holder": seller, "units": 20}
    payload = m.listing_payload("S-1", right=right, price_unit="total", reserve_fen=200_000)
    h.refused(
        "exchange.bad_price_unit", exchange, "exchange.listed", {**payload, "price_unit": "per_mu_year"}
    )
    h.refused(
        "exchange.right_not_held",
        exchange,
        "exchange.listed",
        {**payload, "right": {**right, "units": 10**6}},
    )
    h.submit(exchange, "exchange.listed", payload)
    h.refused("exchange.already_listed", exchange, "exchange.listed", {**payload, "listing": "S-2"})
    register = {"listing": "S-1", "application": hexdigest("application")}
    h.refused(
        "exchange.bidder_not_member",
        exchange,
        "exchange.bidder_registered",
        {**register, "bidder": {"type": "party", "party": outsider}},
    )
    h.refused(
        "exchange.bidder_is_holder",
        exchange,
        "exchange.bidder_registered",
        {**register, "bidder": {"type": "party", "party": seller}},
    )
    number = m.register("S-1", buyer)
    m.open_bidding("S-1")
    m.bid("S-1", number, 200_000)
    before_seller = h.row(ShareHolding, village, seller).units
    before_buyer = h.row(ShareHolding, village, buyer).units
    _sell(h, m, "S-1", number, 200_000)
    assert h.row(ShareHolding, village, seller).units == before_seller - 20
    assert h.row(ShareHolding, village, buyer).units == before_buyer + 20
    assert m.listing("S-1").seller_fee_fen == 0  # a member farmer selling is exempt


def test_a_settled_households_homestead_goes_to_a_member_household_in_the_village(h: Harness) -> None:
    m = Market.build(h, buyers=0)
    seller_household, homestead = h.homestead(m.village)
    people = [x.party_id for x in h.find(HouseholdMember, household_id=seller_household)]
    right = {"type": "homestead", "homestead": homestead}
    payload = m.listing_payload("H-1", right=right, price_unit="total", reserve_fen=5_000_000)
    h.refused("exchange.holder_not_settled", m.exchange, "exchange.listed", payload)
    buyer_household, buyer_people = h.members(m.village, 1)
    _, held_people = h.members(m.village, 1)
    h.homestead(m.village, h.row(HouseholdMember, held_people[0]).household_id)
    h.settle(m.village, seller_household, people)
    payload = m.listing_payload("H-1", right=right, price_unit="total", reserve_fen=5_000_000)
    h.submit(m.exchange, "exchange.listed", payload)
    register = {"listing": "H-1", "application": hexdigest("application")}
    h.refused(
        "exchange.bidder_not_qualified",
        m.exchange,
        "exchange.bidder_registered",
        {**register, "bidder": {"type": "party", "party": held_people[0]}},
    )
    number = m.register("H-1", buyer_people[0])
    m.open_bidding("H-1")
    m.bid("H-1", number, 5_000_000)
    _sell(h, m, "H-1", number, 5_000_000)
    assert h.row(Homestead, homestead).household_id == buyer_household
    assert h.row(Household, seller_household).house_given_up
