"""Bidding entities in memory (rule version 3): a cooperative registered by an exchange centre
as a ``bidding_entity`` org, by its unified social credit code, and registered on a listing as
an entity bidder under that code, signs its own bids, matches and sealed quotes with its own
key; for any other bidder, on another centre's listing or with a revoked key it signs nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from contracts.exchange.bidding import quote_commitment
from contracts.exchange.tables import ListingStep
from contracts.orgs import Org, OrgKey
from ledger.errors import Category
from ledger.signing import b64
from tests.registry_support import hexdigest
from tests.support import credit_code
from tests.unit.contracts.exchange_support import Market
from tests.unit.contracts.harness import COOPERATIVE, COUNTY_CODE, Harness

BID = "exchange.bid"
FARM = {  # an entity bidder with no org of its own: the exchange signs for it
    "type": "entity",
    "name": "文登绿野农业有限公司",
    "credit_code": credit_code("91", COUNTY_CODE, 7702),
    "entity_type": "company",
}


def entity(h: Harness, exchange: str, org_id: str = "coop", code: str = COOPERATIVE["credit_code"]) -> str:
    """A bidding entity of ``exchange`` under credit code ``code`` (the cooperative's)."""
    return h.register(exchange, org_id, "bidding_entity", name=COOPERATIVE["name"], credit_code=code)


def bid(listing: str, bidder: int, amount_fen: int) -> dict[str, Any]:
    return {"listing": listing, "bidder": bidder, "amount_fen": amount_fen}


def register_entity(m: Market, listing: str, bidder: dict[str, Any]) -> int:
    """Register ``bidder`` (an entity) on ``listing`` and receive its deposit; its number."""
    m.h.submit(
        m.exchange,
        "exchange.bidder_registered",
        {
            "listing": listing,
            "bidder": bidder,
            "application": hexdigest("application"),
            "agricultural_capacity": hexdigest("capacity"),
        },
    )
    number = m.listing(listing).bidders
    m.deposit(listing, number)
    return number


# Registration


def test_an_exchange_registers_a_bidding_entity_by_its_credit_code(h: Harness) -> None:
    exchange = h.exchange_center()
    coop = entity(h, exchange)
    org = h.row(Org, coop)
    assert (org.type, org.parent_id, org.credit_code, org.area_code) == (
        "bidding_entity",
        exchange,
        COOPERATIVE["credit_code"],
        None,
    )
    assert [k.org_id for k in h.rows(OrgKey) if k.org_id == coop] == [coop]


TAKEN = FARM["credit_code"]  # the first entity's


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"credit_code": None}, "org.invalid_code"),  # required
        ({"credit_code": COOPERATIVE["credit_code"][:-1] + "0"}, "org.invalid_code"),  # bad check character
        ({"area_code": "371003106"}, "org.invalid_code"),  # an entity has no area code
        ({"credit_code": TAKEN}, "org.code_taken"),
    ],
)
def test_a_bidding_entity_needs_its_own_valid_credit_code_and_no_area_code(
    h: Harness, over: dict[str, Any], code: str
) -> None:
    exchange = h.exchange_center()
    entity(h, exchange, "farm", TAKEN)
    payload = {
        **h.org_payload(exchange, "coop", "bidding_entity", credit_code=COOPERATIVE["credit_code"]),
        **over,
    }
    h.refused(code, exchange, "org.registered", payload)
    h.refused(code, exchange, "org.registered", {k: v for k, v in payload.items() if v is not None})


def test_only_an_exchange_registers_a_bidding_entity(h: Harness) -> None:
    township = h.township()
    exchange = h.exchange_center(township)
    coop = entity(h, exchange)
    for parent in ("county", township, h.collective(township), coop):
        payload = h.org_payload(parent, "coop-2", "bidding_entity", credit_code=FARM["credit_code"])
        h.refused("org.type_not_allowed", parent, "org.registered", payload)
    # An exchange registers nothing else.
    h.refused("org.type_not_allowed", exchange, "org.registered", h.org_payload(exchange, "dev", "developer"))


@pytest.mark.parametrize("version", [None, 2])
def test_versions_1_and_2_refuse_a_bidding_entity(version: int | None) -> None:
    """Before version 3 the type is unknown (as before it existed), from a county or an exchange."""
    h = Harness(rules_version=version)
    exchange = h.exchange_center()
    for parent in ("county", exchange):
        payload = h.org_payload(parent, "coop", "bidding_entity", credit_code=COOPERATIVE["credit_code"])
        h.refused("org.unknown_type", parent, "org.registered", payload)


# Keys


def test_a_bidding_entity_and_its_exchange_manage_its_keys(h: Harness) -> None:
    exchange = h.exchange_center()
    coop = entity(h, exchange)
    other = h.exchange_center()
    own, by_parent = h.new_key(coop), h.new_key(coop)
    h.submit(coop, "key.added", {"org": coop, "public_key": b64(own.key.public_key)})
    h.submit(exchange, "key.added", {"org": coop, "public_key": b64(by_parent.key.public_key)})
    h.refused(
        "org.not_authorised",
        other,
        "key.added",
        {"org": coop, "public_key": b64(h.new_key(coop).key.public_key)},
    )
    h.refused("org.not_authorised", other, "key.revoked", {"key_id": own.key.key_id, "reason": "lost"})
    h.refused(
        "org.not_authorised", coop, "key.added", {"org": exchange, "public_key": b64(own.key.public_key)}
    )
    h.submit(coop, "key.revoked", {"key_id": own.key.key_id, "reason": "retired"})
    h.submit(exchange, "key.revoked", {"key_id": by_parent.key.key_id, "reason": "compromised"})
    assert h.row(OrgKey, own.key.key_id).revoked_seq and h.row(OrgKey, by_parent.key.key_id).revoked_seq


# Bids


def test_a_bidding_entity_bids_with_its_own_key_and_wins(h: Harness) -> None:
    m = Market.build(h)
    coop = entity(h, m.exchange)
    m.list()
    a, b = m.register("L-1", m.buyers[0]), m.register("L-1", entity=True)
    m.open_bidding("L-1")
    m.bid("L-1", a, 80_000)
    h.refused("exchange.bid_below_increment", coop, BID, bid("L-1", b, 85_000))  # the rules as for any bid
    h.submit(coop, BID, bid("L-1", b, 90_000))
    assert (m.listing().high_bidder, m.listing().high_fen) == (b, 90_000)
    m.bid("L-1", a, 100_000)
    h.advance(minutes=1)
    h.submit(m.exchange, BID, bid("L-1", b, 110_000))  # the exchange still bids on its behalf
    h.advance(minutes=1)
    changes = h.submit(coop, BID, bid("L-1", b, 120_000))
    assert h.records[-1]["entry"]["actor"] == coop
    assert (changes.one(ListingStep).bidder, changes.one(ListingStep).amount_fen) == (b, 120_000)
    m.after_close("L-1")
    h.submit(m.exchange, "exchange.awarded", bid("L-1", b, 120_000))
    assert (m.listing().status, m.listing().high_bidder) == ("awarded", b)


def test_a_bidding_entity_seals_and_opens_its_own_quote(h: Harness) -> None:
    m = Market.build(h)
    coop = entity(h, m.exchange)
    m.list(method="sealed")
    a, b = m.register("L-1", m.buyers[0]), m.register("L-1", entity=True)
    m.open_bidding("L-1")
    m.seal("L-1", a, 100_000, salt="cd" * 16)
    salt = "ef" * 16
    sealed = {"listing": "L-1", "bidder": b, "commitment": quote_commitment("L-1", b, 130_000, salt)}
    h.refused("exchange.not_the_bidder", coop, "exchange.quote_sealed", {**sealed, "bidder": a})
    h.submit(coop, "exchange.quote_sealed", sealed)
    m.after_close("L-1")
    m.open_quote("L-1", a, 100_000, salt="cd" * 16)
    h.submit(
        coop, "exchange.quote_opened", {"listing": "L-1", "bidder": b, "amount_fen": 130_000, "salt": salt}
    )
    assert (m.listing().high_bidder, m.listing().high_fen) == (b, 130_000)
    h.submit(m.exchange, "exchange.awarded", bid("L-1", b, 130_000))


def test_a_bidding_entity_that_is_the_sitting_tenant_matches_a_bid_itself(h: Harness) -> None:
    """The cooperative's lease ends when the listed term starts: as the sitting tenant it holds
    priority, and under in-auction matching it matches an outside bid itself."""
    m = Market.build(h, buyers=0, priority_model="in_auction_match")
    coop = entity(h, m.exchange)
    term_start = h.today() + timedelta(days=60)
    lease = h.lease_payload(m.contract, m.parcels, term_end=(term_start - timedelta(days=1)).isoformat())
    h.submit(m.village, "land.management_transferred", lease)
    m.list()
    tenant, farm = m.register("L-1", entity=True), register_entity(m, "L-1", FARM)
    assert m.bidder("L-1", tenant).priority and not m.bidder("L-1", farm).priority
    m.open_bidding("L-1")
    m.bid("L-1", farm, 90_000)
    h.submit(coop, "exchange.priority_matched", bid("L-1", tenant, 90_000))
    assert (m.listing().high_bidder, m.listing().high_fen) == (tenant, 90_000)


def test_a_bidding_entity_bids_for_no_other_bidder(h: Harness) -> None:
    """Not for a party, not for another entity, not for a number nobody holds."""
    m = Market.build(h)
    coop = entity(h, m.exchange)
    m.list()
    member, _, farm = (
        m.register("L-1", m.buyers[0]),
        m.register("L-1", entity=True),
        register_entity(m, "L-1", FARM),
    )
    m.open_bidding("L-1")
    for other in (member, farm):
        refusal = h.refused("exchange.not_the_bidder", coop, BID, bid("L-1", other, 90_000))
        assert refusal.category == Category.FORBIDDEN
    h.refused("exchange.unknown_bidder", coop, BID, bid("L-1", 9, 90_000))
    h.refused("exchange.unknown_listing", coop, BID, bid("L-404", 1, 90_000))


def test_a_bidding_entity_of_another_exchange_is_refused(h: Harness) -> None:
    """The farm, a bidding entity of another centre, is refused on this centre's listing even
    for the bidder registered under its own credit code."""
    m = Market.build(h)
    far = entity(h, h.exchange_center(), "farm", FARM["credit_code"])
    m.list()
    m.register("L-1", m.buyers[0])
    farm = register_entity(m, "L-1", FARM)
    m.open_bidding("L-1")
    refusal = h.refused("exchange.not_listing_exchange", far, BID, bid("L-1", farm, 90_000))
    assert refusal.category == Category.FORBIDDEN


def test_a_bidding_entity_signs_none_of_the_exchanges_own_acts(h: Harness) -> None:
    m = Market.build(h)
    coop = entity(h, m.exchange)
    m.list()
    application = {"type": "entity", **COOPERATIVE, "entity_type": "cooperative"}
    payload = {"listing": "L-1", "bidder": application, "application": hexdigest("application")}
    h.refused("exchange.not_listing_exchange", coop, "exchange.bidder_registered", payload)
    b = m.register("L-1", entity=True, deposit=False)
    deposit = {
        "listing": "L-1",
        "bidder": b,
        "amount_fen": m.listing().deposit_fen,
        "bank_reference": hexdigest("d"),
    }
    h.refused("exchange.not_listing_exchange", coop, "exchange.deposit_received", deposit)
    m.deposit("L-1", b)
    m.open_bidding("L-1")
    h.submit(coop, BID, bid("L-1", b, 80_000))
    m.after_close("L-1")
    h.refused("exchange.not_listing_exchange", coop, "exchange.awarded", bid("L-1", b, 80_000))


def test_a_revoked_key_of_a_bidding_entity_signs_no_bid(h: Harness) -> None:
    m = Market.build(h)
    coop = entity(h, m.exchange)
    m.list()
    m.register("L-1", m.buyers[0])
    b = m.register("L-1", entity=True)
    old = h.keys[coop]
    h.submit(m.exchange, "key.revoked", {"key_id": old.key.key_id, "reason": "compromised"})
    m.open_bidding("L-1")
    h.refused("signature.revoked_key", coop, BID, bid("L-1", b, 80_000), key=old)
    new = h.new_key(coop)
    h.submit(m.exchange, "key.added", {"org": coop, "public_key": b64(new.key.public_key)})
    h.submit(coop, BID, bid("L-1", b, 80_000), key=new)
    assert m.listing().high_bidder == b
