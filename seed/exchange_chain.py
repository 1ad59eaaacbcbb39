"""What every listing of the seed's story does: choose a right and its bidders in a village,
list it, register and take deposits, bid, award, settle. A listing's story (seed/
exchange_scenarios.py) is a ``Chain`` with a method for each moment of its season it acts at
(seed/exchange.py dates them); the others do nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from seed.exchange_desk import SeedBidder, SeedListing
from seed.exchange_rights import (
    Entity,
    entities,
    free_parcels,
    homestead_buyers,
    homestead_sellers,
    land_holders,
    members_bidding,
    share_buyers,
    share_sellers,
)
from seed.model import Resident, Village
from seed.story import add_years

if TYPE_CHECKING:
    from seed.exchange import ExchangeStory, Season

LAND_MODES = (("lease", 80), ("subcontract", 10), ("shares", 10))


def month_after(d: date) -> date:
    """The first day of the month after ``d``'s."""
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


class Chain:
    """One listing's story (a relisting's, for the two that fail)."""

    model = "tie"  # the county's priority model while it is listed
    long_window = False  # open for months (the second season's open listings)

    def __init__(self, ex: ExchangeStory, season: Season) -> None:
        self.ex, self.season = ex, season
        self.desk, self.rng = ex.desk, ex.rng
        self.listing: SeedListing | None = None
        self.chosen: list[Resident] = []  # members picked to bid
        self.bidders: list[SeedBidder] = []

    @property
    def day(self) -> date:
        return self.season.listed_on

    @property
    def window(self) -> tuple[datetime, datetime]:
        return self.season.opens, self.season.long_closes if self.long_window else self.season.closes

    def pick(self, v: Village, index: int) -> bool:
        """Choose the right and the bidders in ``v``; False when ``v`` has none to offer."""
        raise NotImplementedError

    # -- listings ---------------------------------------------------------------------------

    def land(self, v: Village, index: int, farmers: int = 0) -> bool:
        """List the land a household can lease out (all its free parcels if it settled in town,
        else two), with ``farmers`` member farmers of other households to bid for it."""
        holders = land_holders(v, self.day, self.ex.sellers)
        if not holders:
            return False
        hh = self.rng.choice(holders)
        assert hh.contract is not None
        found = members_bidding(v, self.day, self.ex.bidding, not_of=hh)
        opens, closes = self.window
        start = self.term_start()
        end = min(add_years(start, self.rng.choice((3, 5, 5, 8, 10))), hh.contract.term_end)
        if len(found) < farmers or end <= start:
            return False
        free = free_parcels(hh, self.day)
        chosen = free if hh.settled else free[:2]
        right = {
            "type": "land_management",
            "contract": hh.contract.id,
            "parcels": chosen,
            "mode": self.rng.choices([m for m, _ in LAND_MODES], [w for _, w in LAND_MODES])[0],
            "term_start": start.isoformat(),
            "term_end": end.isoformat(),
            "agricultural_use": True,
        }
        area = sum(hh.contract.parcels[p] for p in chosen)
        reserve = self.rng.randrange(6, 13) * 100_00  # 600 to 1,200 元 per 亩 per year
        self.listing = self.ex.new_listing(
            v, index, hh, right, area, reserve, 100_00, "per_mu_year", opens, closes
        )
        self.listing.model = self.model
        self.ex.reserve(self.listing)
        self.ex.sellers.add(hh.id)
        self.take(*self.rng.sample(found, farmers))
        return True

    def term_start(self) -> date:
        """A lease starts on the first of a month after the deal: a month after the listing, or
        two weeks after a long window closes."""
        closes = self.window[1]
        return month_after(
            (closes + timedelta(days=14)).date() if self.long_window else self.day + timedelta(days=30)
        )

    def shares(self, v: Village, index: int, buyers: int) -> bool:
        for seller, units in share_sellers(v, self.ex.sellers):
            found = share_buyers(v, self.day, seller, units, self.ex.bidding)
            if len(found) < buyers:
                continue
            right = {"type": "shares", "collective": v.id, "holder": seller.party, "units": units}
            reserve = units * self.rng.randrange(80, 150) * 100
            opens, closes = self.window
            self.listing = self.ex.new_listing(
                v, index, seller, right, units, reserve, 100_00, "total", opens, closes
            )
            self.listing.model = self.model
            self.listing.qualifications = {"members_only": True}
            self.ex.sellers.add(seller.party)
            self.take(*self.rng.sample(found, buyers))
            return True
        return False

    def homestead(self, v: Village, index: int) -> bool:
        for hh in homestead_sellers(v, self.ex.sellers):
            found = homestead_buyers(v, self.day, hh, self.ex.bidding)
            if not found:
                continue
            assert hh.homestead is not None
            right = {"type": "homestead", "homestead": hh.homestead.id}
            reserve = hh.homestead.area_m2 * self.rng.randrange(120, 260) * 100
            opens, closes = self.window
            self.listing = self.ex.new_listing(
                v, index, hh, right, hh.homestead.area_m2, reserve, 500_00, "total", opens, closes
            )
            self.listing.model = self.model
            self.listing.qualifications = {"members_only": True}
            self.ex.sellers.add(hh.id)
            self.take(*self.rng.sample(found, min(2, len(found))))
            return True
        return False

    # -- bidders ----------------------------------------------------------------------------

    def take(self, *people: Resident) -> None:
        for r in people:
            self.ex.bidding.add(r.party)
            if r.household is not None and self.listing and self.listing.right_type == "homestead":
                self.ex.bidding.add(r.household.id)
        self.chosen += people

    def entities(self, n: int, *kinds: str) -> list[Entity]:
        """``n`` distinct entities (of ``kinds``), none barred from the listing."""
        assert self.listing is not None
        barred = self.listing.relisting_of.barred if self.listing.relisting_of else set()
        return entities(self.listing.village, self.rng, n, kinds, barred)

    def register_all(self, *who: Resident | Entity) -> list[SeedBidder]:
        """Register and qualify each, then take their deposits."""
        assert self.listing is not None
        listing, land = self.listing, self.listing.right_type == "land_management"
        out = []
        for x in who:
            if isinstance(x, Entity):
                b = self.desk.register(listing, x.bidder(), x.credit_code, False, entity=x.name)
            else:
                b = self.desk.register(
                    listing, {"type": "party", "party": x.party}, x.party, land, resident=x
                )
            out.append(b)
        for b in out:
            self.desk.receive_deposit(listing, b)
        self.bidders = out
        return out

    # -- acts -------------------------------------------------------------------------------

    def announce(self) -> None:
        assert self.listing is not None
        self.desk.announce(self.listing)

    def bid(self, b: SeedBidder, steps: int) -> None:
        assert self.listing is not None
        self.desk.bid(self.listing, b, self.listing.reserve + steps * self.listing.increment)

    def match(self, b: SeedBidder, steps: int) -> None:
        assert self.listing is not None
        self.desk.match(self.listing, b, self.listing.reserve + steps * self.listing.increment)

    def award_and_refund(self, keep: SeedBidder | None = None) -> None:
        assert self.listing is not None
        self.desk.award(self.listing)
        self.desk.refund_losers(self.listing, keep)

    def settle(self) -> None:
        """Payment through the centre's account, then the certificate that moves the right."""
        assert self.listing is not None
        self.desk.confirm_payment(self.listing)
        self.desk.certify(self.listing, self.ex.certificate_no(self.listing))

    def sign(self) -> None:
        assert self.listing is not None
        if self.listing.status == "awarded":
            self.desk.sign_contract(self.listing)

    # -- the season's moments: a listing's story acts at those it defines ------------------

    def registration(self) -> None: ...
    def announcement(self) -> None: ...
    def opening(self) -> None: ...
    def last_minutes(self) -> None: ...
    def close(self) -> None: ...
    def contract(self) -> None: ...
    def settlement(self) -> None: ...
    def default(self) -> None: ...
    def runner_up(self) -> None: ...
