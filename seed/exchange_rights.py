"""What the seed lists on the exchange and who bids for it, chosen from the seed's picture of the
county (seed/model.py), and how a certificate moves the right in that picture, as the ledger
moves it: a land lease holds its parcels for the term, shares change holder, a homestead
changes household.

Choices follow the rules the ledger applies (contracts/exchange/rights.py): land of a household
in force, on parcels under no transfer for the term; shares free of pledges, to members within
the per-holder cap; a homestead of a household settled in town, to a member household living in
the village that holds none and never gave one up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Any

from contracts.policy import DEFAULT_POLICY
from seed.exchange_desk import SeedBidder, SeedListing
from seed.model import Household, Resident, Village
from seed.people import age_on
from seed.story import TRANSFEREE_WORDS, entity_credit_code

BIDDING_AGES = range(25, 66)
# Bidding entities: farmers' cooperatives, family farms and an agricultural company.
ENTITY_KINDS = (
    ("果蔬专业合作社", "cooperative"),
    ("苹果种植专业合作社", "cooperative"),
    ("花生种植专业合作社", "cooperative"),
    ("家庭农场", "family_farm"),
    ("农业发展有限公司", "company"),
)


@dataclass(frozen=True)
class Entity:
    name: str
    credit_code: str
    entity_type: str

    def bidder(self) -> dict[str, Any]:
        return {
            "type": "entity",
            "name": self.name,
            "credit_code": self.credit_code,
            "entity_type": self.entity_type,
        }


def free_parcels(hh: Household, day: date) -> list[str]:
    """The contract's parcels under no transfer on ``day`` or after (none leased, reserved
    by an open listing, or held by an exchange lease)."""
    c = hh.contract
    if c is None:
        return []
    return [p for p in sorted(c.parcels) if c.leased_until.get(p, date.min) < day]


def land_holders(v: Village, day: date, taken: set[str]) -> list[Household]:
    """Households that can lease land out: those settled in town first (they lease what they
    kept), then the others."""
    found = [
        hh for hh in v.active_households() if hh.id not in taken and hh.members and free_parcels(hh, day)
    ]
    settled = [hh for hh in found if hh.settled]
    return settled or found


def members_bidding(
    v: Village, day: date, taken: set[str], not_of: Household | None = None
) -> list[Resident]:
    """Members living in the village, of bidding age, from households other than ``not_of``'s."""
    return [
        r
        for r in v.living()
        if r.status == "active"
        and age_on(r.born, day) in BIDDING_AGES
        and r.household is not not_of
        and r.party not in taken
        and r.household is not None
        and r.household.id not in taken
    ]


def share_sellers(v: Village, taken: set[str]) -> list[tuple[Resident, int]]:
    """Holders and the units they list: members settled in town first, selling what they kept
    (they pledge nothing); else members in the village listing half their units (a pledge of
    the last round freezes at most half)."""
    found = []
    for r in v.living():
        held = v.holdings.get(r.party)
        if r.party in taken or not held or held[0] < 2:
            continue
        if r.status == "settled":
            found.append((r, int(held[0])))
        elif r.status == "active":
            found.append((r, int(held[0]) // 2))
    settled = [(r, units) for r, units in found if r.status == "settled"]
    return settled or found


def share_buyers(v: Village, day: date, seller: Resident, units: int, taken: set[str]) -> list[Resident]:
    """Members who may take ``units`` more within the per-holder cap."""
    cap = DEFAULT_POLICY.holder_share_cap_bp * v.total_units
    return [
        r
        for r in members_bidding(v, day, taken, not_of=seller.household)
        if (v.holdings.get(r.party, [0])[0] + units) * 10_000 <= cap
    ]


def homestead_sellers(v: Village, taken: set[str]) -> list[Household]:
    """Households settled in town, every member, that still hold their homestead."""
    return [
        hh
        for hh in v.active_households()
        if hh.settled
        and hh.id not in taken
        and hh.members
        and all(m.status == "settled" for m in hh.members)
        and hh.homestead is not None
        and hh.homestead.held
    ]


def homestead_buyers(v: Village, day: date, seller: Household, taken: set[str]) -> list[Resident]:
    """A member of each household living in the village that holds no homestead and never gave
    one up, to bid for it."""
    out: list[Resident] = []
    for r in members_bidding(v, day, taken, not_of=seller):
        hh = r.household
        if (
            hh is not None
            and not hh.settled
            and not hh.house_given_up
            and (hh.homestead is None or not hh.homestead.held)
            and all(o.household is not hh for o in out)
        ):
            out.append(r)
    return out


def entities(
    v: Village,
    rng: random.Random,
    n: int,
    kinds: tuple[str, ...] = (),
    barred: set[str] | frozenset[str] = frozenset(),
) -> list[Entity]:
    """``n`` distinct bidding entities of the village's township (of ``kinds``, if given), none
    of them ``barred`` (credit codes)."""
    town, county = v.place.township.name, v.place.township.area.county_code
    choices = [
        Entity(f"{town}{word}{kind}", entity_credit_code(f"{town}{word}{kind}", county), entity_type)
        for word in TRANSFEREE_WORDS
        for kind, entity_type in ENTITY_KINDS
        if not kinds or entity_type in kinds
    ]
    return rng.sample([e for e in choices if e.credit_code not in barred], n)


def move_right(listing: SeedListing, winner: SeedBidder) -> None:
    """The certificate's effect on the seed's picture, as the ledger's ``move_right`` makes it."""
    v = listing.village
    if listing.right_type == "land_management":
        holder = listing.holder
        assert isinstance(holder, Household) and holder.contract is not None and listing.term
        for p in listing.right["parcels"]:
            holder.contract.leased_until[p] = listing.term[1]
    elif listing.right_type == "shares":
        member, buyer = listing.holder, winner.resident
        assert isinstance(member, Resident) and buyer is not None and buyer.household is not None
        units = int(listing.right["units"])
        v.holdings[member.party][0] -= units
        mine = v.holdings.get(buyer.party, [0, buyer.household.id])
        v.holdings[buyer.party] = [mine[0] + units, mine[1]]
    elif listing.right_type == "homestead":
        seller = listing.holder
        assert isinstance(seller, Household) and winner.resident is not None
        household = winner.resident.household
        assert household is not None
        household.homestead, seller.homestead = seller.homestead, None
        seller.house_given_up = True
