"""A right under an open listing is frozen (rule version 3): the registry's own kinds do not
move listed share units, a listed homestead or listed parcels until the listing ends; what the
listing leaves out still moves, and once it fails, is withdrawn or certified the right moves
freely again. Under version 2 nothing changes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from contracts.exchange import freeze
from contracts.exchange.tables import Listing
from contracts.homesteads import Homestead
from contracts.households import HouseholdMember
from contracts.land import LandContract, ManagementTransfer, Parcel
from contracts.rulebook import RULEBOOK
from contracts.shares import ShareHolding
from contracts.state import key_of, make
from tests.registry_support import hexdigest
from tests.unit.contracts.exchange_support import Market
from tests.unit.contracts.harness import BANK, Harness

FROZEN = (
    "shares.transferred",
    "shares.pledged",
    "shares.bought_back",
    "homestead.transferred",
    "homestead.withdrawn",
    "land.management_transferred",
    "land.contracting_right_transferred",
    "land.returned",
    "land.contracts_exchanged",
)


def shares_transfer(holder: str, to: str, units: int) -> dict[str, Any]:
    return {"holder": holder, "to": to, "units": units, "price_fen": 100, "agreement": hexdigest("sale")}


def shares_pledge(pledge: str, holder: str, units: int) -> dict[str, Any]:
    return {
        "pledge": pledge,
        "holder": holder,
        "units": units,
        "pledgee": BANK,
        "contract": hexdigest("loan"),
    }


def withdrawal(homestead: str) -> dict[str, Any]:
    return {
        "homestead": homestead,
        "compensation": "cash",
        "compensation_fen": 3_000_000,
        "agreement": hexdigest("withdrawal"),
    }


def land_return(h: Harness, contract: str) -> dict[str, Any]:
    notice = h.today()
    return {
        "contract": contract,
        "notice_date": notice.isoformat(),
        "effective_date": (notice + timedelta(days=366)).isoformat(),
    }


def sell(h: Harness, m: Market, listing: str, buyer: str, amount: int) -> None:
    """A member's bid at ``amount``, the award, contract, payment and certificate."""
    number = m.register(listing, buyer)
    m.open_bidding(listing)
    m.bid(listing, number, amount)
    m.after_close(listing)
    h.submit(m.exchange, "exchange.awarded", {"listing": listing, "bidder": number, "amount_fen": amount})
    h.submit(m.exchange, "exchange.contract_signed", {"listing": listing, "contract": hexdigest("contract")})
    row = m.listing(listing)
    assert row.value_fen is not None and row.buyer_fee_fen is not None
    due = row.value_fen - m.bidder(listing, number).deposit_fen + row.buyer_fee_fen
    pay = {"listing": listing, "amount_fen": due, "bank_reference": hexdigest("pay")}
    h.submit(m.exchange, "exchange.payment_confirmed", pay)
    h.submit(
        m.exchange, "exchange.certificate_issued", {"listing": listing, "certificate_no": f"JY-{listing}"}
    )
    assert m.listing(listing).status == "certified"


def test_listed_share_units_are_neither_transferred_nor_pledged_until_the_listing_ends(h: Harness) -> None:
    village = h.collective()
    h.set_policy(holder_share_cap_bp=2000)
    members = h.quantified(village, households=6, size=2)
    m = Market(h, village=village, exchange=h.exchange_center())
    seller, buyer = members[0][1], members[2][1]
    held = h.row(ShareHolding, village, seller).units
    right = {"type": "shares", "collective": village, "holder": seller, "units": 20}
    h.submit(
        m.exchange,
        "exchange.listed",
        m.listing_payload("S-1", right=right, price_unit="total", reserve_fen=200_000),
    )
    # The units beyond the listed ones still move: all but the 20 are pledged.
    h.submit(village, "shares.pledged", shares_pledge("P-1", seller, held - 20))
    h.refused("shares.units_listed", village, "shares.transferred", shares_transfer(seller, buyer, 1))
    h.refused("shares.units_listed", village, "shares.pledged", shares_pledge("P-2", seller, 1))
    buyback = {"holder": seller, "units": 1, "price_fen": 100, "agreement": hexdigest("buy-back")}
    h.refused("shares.units_listed", village, "shares.bought_back", buyback)
    h.submit(village, "shares.pledge_released", {"pledge": "P-1"})
    h.refused("shares.units_listed", village, "shares.transferred", shares_transfer(seller, buyer, held - 19))
    h.submit(village, "shares.transferred", shares_transfer(seller, buyer, 5))
    h.refused("shares.units_listed", village, "shares.pledged", shares_pledge("P-2", seller, held - 24))
    assert h.row(ShareHolding, village, seller).units == held - 5
    # Withdrawn, the listing frees its units: every unit left is pledged.
    h.submit(
        m.exchange,
        "exchange.withdrawn",
        {"listing": "S-1", "reason": "holder_request", "document": hexdigest("withdrawal")},
    )
    h.submit(village, "shares.pledged", shares_pledge("P-2", seller, held - 5))
    assert h.row(ShareHolding, village, seller).pledged_units == held - 5


def test_a_listed_homestead_is_neither_transferred_nor_withdrawn_until_the_listing_fails(
    h: Harness,
) -> None:
    m = Market.build(h, buyers=0)
    seller_household, homestead = h.homestead(m.village)
    people = [x.party_id for x in h.find(HouseholdMember, household_id=seller_household)]
    buyer_household, buyer_people = h.members(m.village, 1)
    h.settle(m.village, seller_household, people)
    _, other = h.homestead(m.village)
    right = {"type": "homestead", "homestead": homestead}
    h.submit(
        m.exchange,
        "exchange.listed",
        m.listing_payload("H-1", right=right, price_unit="total", reserve_fen=5_000_000),
    )
    transfer = {"homestead": homestead, "to_household": buyer_household, "agreement": hexdigest("sale")}
    h.refused("homestead.listed", m.village, "homestead.transferred", transfer)
    h.refused("homestead.listed", m.village, "homestead.withdrawn", withdrawal(homestead))
    h.submit(m.village, "homestead.withdrawn", withdrawal(other))  # a homestead not listed
    m.register("H-1", buyer_people[0])
    m.after_close("H-1")
    h.submit(m.exchange, "exchange.failed", {"listing": "H-1"})
    h.submit(m.village, "homestead.withdrawn", withdrawal(homestead))
    assert h.row(Homestead, homestead).status == "withdrawn"


def test_listed_parcels_are_not_leased_for_the_listed_term_nor_their_contract_moved(h: Harness) -> None:
    m = Market.build(h)
    listed, unlisted = m.parcels
    right = {**m.listing_payload()["right"], "parcels": [listed]}
    m.list(right=right)
    overlapping = h.lease_payload(m.contract, [listed])
    h.refused("land.parcels_listed", m.village, "land.management_transferred", overlapping)
    h.refused(
        "land.parcels_listed",
        m.village,
        "land.management_transferred",
        h.lease_payload(m.contract, [listed, unlisted], term_start="2036-12-01", term_end="2040-12-31"),
    )
    # After the listed term (it ends 2036-12-31) the listed parcel is leased.
    h.submit(
        m.village,
        "land.management_transferred",
        h.lease_payload(m.contract, [listed], term_start="2037-01-01", term_end="2040-12-31"),
    )
    other_household, other_contract, [theirs] = h.contracted(m.village, 1)
    exchange = {"other_contract": other_contract, "other_parcels": [theirs], "consent": hexdigest("c")}
    h.refused(
        "land.parcels_listed",
        m.village,
        "land.contracts_exchanged",
        {"contract": m.contract, "parcels": [listed], **exchange},
    )
    h.refused(
        "land.parcels_listed",
        m.village,
        "land.contracts_exchanged",
        {
            "contract": other_contract,
            "parcels": [theirs],
            "other_contract": m.contract,
            "other_parcels": [listed],
            "consent": hexdigest("c"),
        },
    )
    h.submit(
        m.village, "land.contracts_exchanged", {"contract": m.contract, "parcels": [unlisted], **exchange}
    )
    assert h.row(Parcel, theirs).contract_id == m.contract
    # A parcel the listing leaves out is leased for the listed term.
    h.submit(m.village, "land.management_transferred", h.lease_payload(m.contract, [theirs]))
    move = {"contract": m.contract, "to_household": other_household, "consent": hexdigest("consent")}
    h.refused("land.parcels_listed", m.village, "land.contracting_right_transferred", move)
    h.refused("land.parcels_listed", m.village, "land.returned", land_return(h, m.contract))
    sell(h, m, "L-1", m.buyers[0], 80_000)
    [sold] = [t for t in h.find(ManagementTransfer, contract_id=m.contract) if t.id == "exchange:L-1"]
    assert sold.parcels == [listed]
    h.submit(m.village, "land.contracting_right_transferred", move)
    assert h.row(LandContract, m.contract).household_id == other_household


def test_a_withdrawn_land_listing_frees_its_contract(h: Harness) -> None:
    m = Market.build(h)
    m.list()
    h.refused("land.parcels_listed", m.village, "land.returned", land_return(h, m.contract))
    h.submit(
        m.exchange,
        "exchange.withdrawn",
        {"listing": "L-1", "reason": "holder_request", "document": hexdigest("withdrawal")},
    )
    h.submit(m.village, "land.management_transferred", h.lease_payload(m.contract, m.parcels))
    h.submit(m.village, "land.returned", land_return(h, m.contract))
    assert h.row(LandContract, m.contract).status == "returned"


def planted(right_key: str, right: dict[str, Any], holder: str, collective: str, **over: Any) -> Listing:
    """An open listing row, as version 3 would have projected it (no version 2 ledger lists)."""
    fields: dict[str, Any] = {
        "id": f"planted:{right_key}",
        "exchange_id": "EX",
        "county_id": "COUNTY",
        "township_id": "TOWNSHIP",
        "collective_id": collective,
        "right_type": right["type"],
        "right_key": right_key,
        "right": right,
        "holder": holder,
        "consent": hexdigest("consent"),
        "quantity": 1,
        "reserve_fen": 1,
        "price_unit": "total",
        "increment_fen": 10_000,
        "deposit_fen": 1,
        "method": "auction",
        "priority_model": "tie",
        "qualifications": {},
        "lottery_seed": hexdigest("seed"),
        "listed_seq": 1,
        "listed_on": date(2026, 3, 1),
        "announce_ends": date(2026, 3, 10),
        "opens_at": "2026-03-11T01:00:00Z",
        "closes_at": "2026-03-11T03:00:00Z",
        "extension_minutes": 5,
        "status": "announced",
        **over,
    }
    return make(Listing, **fields)


def test_under_version_2_nothing_is_frozen() -> None:
    """Version 2's rules read no listing: with open listings in the state (planted, since no
    version 2 ledger lists), every kind version 3 freezes still moves the right."""
    for kind in FROZEN:
        v2, v3 = RULEBOOK.in_force(kind, 2), RULEBOOK.in_force(kind, 3)
        assert v2 is not None and v3 is not None and v2.version < 3 == v3.version, kind
    assert {r.kind for r in vars(freeze).values() if getattr(r, "version", None) == 3} == set(FROZEN) - {
        "land.contracts_exchanged"
    }
    h = Harness(rules_version=2)
    village = h.collective()
    h.set_policy(holder_share_cap_bp=2000)
    members = h.quantified(village, households=3, size=2)
    seller, buyer = members[0][1], members[2][1]
    held = h.row(ShareHolding, village, seller).units
    household, homestead = h.homestead(village)
    owner, contract, parcels = h.contracted(village, 2)
    rows = [
        planted(
            f"shares:{village}:{seller}",
            {"type": "shares", "collective": village, "holder": seller, "units": held},
            seller,
            village,
        ),
        planted(f"homestead:{homestead}", {"type": "homestead", "homestead": homestead}, household, village),
        planted(
            f"land:{contract}",
            {"type": "land_management", "contract": contract, "parcels": parcels},
            owner,
            village,
            term_start=date(2026, 5, 1),
            term_end=date(2036, 12, 31),
        ),
    ]
    h.replay.memory.apply({Listing: {key_of(row): row for row in rows}})
    h.submit(village, "shares.pledged", shares_pledge("P-1", seller, 1))
    h.submit(village, "shares.transferred", shares_transfer(seller, buyer, 1))
    h.submit(village, "homestead.withdrawn", withdrawal(homestead))
    h.submit(village, "land.management_transferred", h.lease_payload(contract, parcels))
    h.submit(village, "land.returned", land_return(h, contract))
    assert h.row(LandContract, contract).status == "returned"
