"""The exchange's rules in memory: a listing through bids, award, contract, payment, refunds
and the certificate that moves the right."""

from __future__ import annotations

from contracts.exchange.tables import Listing
from contracts.land import ManagementTransfer
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
