"""The rural property rights exchange in the county's story (农村产权交易).

The county's exchange centre and a service station in one or two townships are registered
with the other organisations; the county declares each year's working-day calendar (its own at
the start, the next year's in each October round). Two seasons of listings follow, dealt over
the townships, a few to each, and told in ticks of their own between the story's rounds, at the
minute each act happens (bids at 10:00 China time, the last ones in the closing minutes):

- the first season opens three weeks after the last round but one and is over before the last
  round (seed/exchange_scenarios.py ``FIRST_SEASON``: deals certified under each priority
  model, sealed quotes, shares and a homestead sold to members, a withdrawal, defaults, a
  listing that failed);
- the second opens ten days after the last round and is left open at the ledger's head
  (``SECOND_SEASON`` and the failed listings relisted).

The county's priority model is a policy number fixed on each listing when it is listed: the
seed sets it (``policy.set``) before each group of listings and sets tie priority, the default,
back after them. The county keeps the other exchange numbers at their defaults
(contracts/policy.py), and the seed counts its days, deposits and fees with them. Everything is
drawn from generators of its own, so the story stays deterministic.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from contracts.policy import DEFAULT_POLICY
from seed.exchange_calendar import DeclaredCalendar
from seed.exchange_chain import Chain
from seed.exchange_desk import CST, Desk, SeedBidder, SeedListing, cst
from seed.exchange_rights import move_right
from seed.exchange_scenarios import FIRST_SEASON, SECOND_SEASON, Relisting
from seed.model import Household, Resident, Village
from seed.places import Township
from seed.story import Tick

if TYPE_CHECKING:
    from seed.story import CountyStory

COUNTY_CENTRE = "exchange-center"
MODELS = ("in_auction_match", "post_close_match", "tie")  # the order listings are grouped in
LISTINGS_PER_TOWNSHIP = 2  # first-season listings (the second season adds about one more)
# The first season's longest run, listing to the last failure, with the longest holidays
# (春节, 国庆) in its announcement and its extension: about six weeks.
FIRST_SEASON_DAYS = timedelta(days=60)


@dataclass
class Season:
    """A season's listing day, its moments and its listings."""

    listed_on: date
    opens: datetime
    closes: datetime  # a short auction's window: half an hour
    long_closes: datetime  # the window of listings left open: months
    moments: dict[str, datetime]
    chains: list[Chain] = field(default_factory=list)


class ExchangeStory:
    def __init__(self, story: CountyStory) -> None:
        self.story = story
        self.rng = random.Random(f"{story.seed}/exchange")
        self.ids = random.Random(f"{story.seed}/exchange/ids")
        self.calendar = DeclaredCalendar()
        self.desk = Desk(story, story.seed, self.ids)
        self.desk.on_certified = self.certified
        self.events: list[tuple[datetime, int, str, Callable[[], None]]] = []
        self.counter = itertools.count()
        self.model_in_force: str = DEFAULT_POLICY.priority_model
        self.cycle = DEFAULT_POLICY.no_bidder_extension_working_days
        self.relist_step_bp = DEFAULT_POLICY.relist_reserve_step_bp
        self.stations = story.townships[: 2 if len(story.townships) > 2 else 1]
        self.serials: dict[tuple[str, int], int] = {}
        self.reserved: dict[str, dict[str, date]] = {}  # listing -> its parcels' leases before
        self.sellers: set[str] = set()  # households and holders whose right was listed
        self.bidding: set[str] = set()  # members (and homestead households) bidding this season
        self.to_relist: list[tuple[SeedListing, int, bool]] = []  # failed listing, reserve cut, long

    def certified(self, listing: SeedListing, winner: SeedBidder) -> None:
        """The certificate moves the right; a homestead sold also entitles its seller to the
        county's compensation (seed/vouchers.py)."""
        move_right(listing, winner)
        if listing.right_type == "homestead":
            self.story.vouchers.homestead_sold(listing)

    # -- organisations and the calendar ---------------------------------------------------

    @staticmethod
    def station_id(t: Township) -> str:
        return f"exchange-{t.code}"

    @property
    def centre_ids(self) -> list[str]:
        """The townships' service stations (the county's centre is registered by the story)."""
        return [self.station_id(t) for t in self.stations]

    def register_stations(self) -> None:
        """A township registers its exchange service station (农村产权交易服务站)."""
        from seed.orgkeys import public_key_of

        for t in self.stations:
            self.story.emit(
                t.id,
                "org.registered",
                {
                    "id": self.station_id(t),
                    "name": f"{t.name}农村产权交易服务站",
                    "type": "exchange_center",
                    "parent": t.id,
                    "public_keys": [public_key_of(self.story.seed, self.station_id(t))],
                },
                self.story.ids,
            )

    def declare_calendar(self, year: int) -> None:
        """The county's working days for ``year``, once its holiday notice is out."""
        payload = self.calendar.declare(year)
        if payload is not None:
            self.story.emit(self.story.root.id, "calendar.declared", payload, self.story.ids)

    # -- time -----------------------------------------------------------------------------

    def plan(self, rounds: list[date], quantified: date) -> None:
        """Date the two seasons from the story's round days (nothing without a round; no first
        season unless it is over, with room to spare, before the last round)."""
        if not rounds:
            return
        first = rounds[-2] + timedelta(days=20) if len(rounds) > 1 else quantified + timedelta(days=14)
        if first + FIRST_SEASON_DAYS <= rounds[-1]:
            self.at(cst(first, 9, 30), "listings", lambda: self.first_season(first))
        last = rounds[-1] + timedelta(days=10)
        self.at(cst(last, 9, 30), "listings", lambda: self.second_season(last))

    def at(self, when: datetime, label: str, act: Callable[[], None]) -> None:
        heapq.heappush(self.events, (when, next(self.counter), label, act))

    def ticks_until(self, limit: datetime | None) -> Iterator[Tick]:
        """The exchange's ticks before ``limit`` (all that are left, for None), in time order;
        acts due at the same instant share a tick."""
        while self.events and (limit is None or self.events[0][0] < limit):
            when, _, label, _ = self.events[0]
            tick = Tick(when, f"{(when + CST):%Y-%m-%d %H:%M} exchange: {label}")
            self.story.tick, self.story.lane = tick, None
            while self.events and self.events[0][0] == when:
                heapq.heappop(self.events)[3]()
            if tick.intents:
                yield tick

    # -- seasons --------------------------------------------------------------------------

    def season(self, day: date, long: bool) -> Season:
        """The season listed on ``day``: registration the next working day, withdrawals and
        holds mid-announcement, bidding the working day after the announcement (10:00 to
        10:30), the contract, payment and certificate one and two working days after, a
        defaulter's deadline passed the working day after the contract's."""
        after = self.calendar.after
        opening = after(day, DEFAULT_POLICY.listing_notice_working_days + 1)
        contract_due = after(opening, DEFAULT_POLICY.contract_working_days)
        moments = {
            "registration": cst(after(day, 1), 9, 30),
            "announcement": cst(after(day, 4), 9, 30),
            "opening": cst(opening, 10),
            "last_minutes": cst(opening, 10, 27),
            "close": cst(opening, 11),
        }
        if not long:
            moments |= {
                "contract": cst(after(opening, 1), 10),
                "settlement": cst(after(opening, 2), 10),
                "default": cst(after(contract_due, 1), 10),
                "runner_up": cst(after(contract_due, 2), 10),
            }
        last_day = self.calendar.on_or_before(day + timedelta(days=150))
        return Season(day, cst(opening, 10), cst(opening, 10, 30), cst(last_day, 16), moments)

    def on_working_day(self, anchor: date, start: Callable[[date], None]) -> date | None:
        day = self.calendar.on_or_after(anchor)
        if day != anchor:
            self.at(cst(day, 9, 30), "listings", lambda: start(day))
            return None
        return day

    def first_season(self, anchor: date) -> None:
        day = self.on_working_day(anchor, self.first_season)
        if day is None:
            return
        season = self.season(day, long=False)
        count = max(len(FIRST_SEASON), LISTINGS_PER_TOWNSHIP * len(self.story.townships))
        self.place(season, [FIRST_SEASON[i % len(FIRST_SEASON)](self, season) for i in range(count)])
        self.open(season)

    def second_season(self, anchor: date) -> None:
        day = self.on_working_day(anchor, self.second_season)
        if day is None:
            return
        self.bidding = set()
        season = self.season(day, long=True)
        relistings: list[Chain] = [Relisting(self, season, *r) for r in self.to_relist]
        count = max(len(SECOND_SEASON), len(self.story.townships))
        self.place(
            season, [SECOND_SEASON[i % len(SECOND_SEASON)](self, season) for i in range(count)], relistings
        )
        self.open(season)

    def place(self, season: Season, chains: list[Chain], relistings: Sequence[Chain] = ()) -> None:
        """Each listing in a village of its township (dealt in turn), or in any village that has
        the right and the bidders it needs; the relistings where the right is."""
        for index, chain in enumerate(relistings):
            assert isinstance(chain, Relisting)
            if chain.pick(chain.original.village, index):
                season.chains.append(chain)
        townships = self.story.townships
        for index, chain in enumerate(chains, start=len(relistings)):
            home = townships[index % len(townships)]
            mine = [v for v in self.story.villages if v.place.township is home]
            turn = index // len(townships)
            order = mine[turn % len(mine) :] + mine[: turn % len(mine)] if mine else []
            order += [v for v in self.story.villages if v not in order]
            if any(chain.pick(v, index) for v in order):
                season.chains.append(chain)

    def open(self, season: Season) -> None:
        """List the season's listings, grouped by the priority model the county sets for them,
        and date what follows."""
        for model in MODELS:
            group = [c for c in season.chains if c.model == model]
            if group:
                self.set_priority_model(model)
                for chain in group:
                    chain.announce()
        self.set_priority_model(DEFAULT_POLICY.priority_model)
        for name, when in season.moments.items():
            self.at(when, name.replace("_", " "), functools.partial(self.moment, season, name))

    def moment(self, season: Season, name: str) -> None:
        for chain in season.chains:
            getattr(chain, name)()

    def set_priority_model(self, model: str) -> None:
        if model != self.model_in_force:
            self.story.emit(
                self.story.root.id, "policy.set", {"numbers": {"priority_model": model}}, self.story.ids
            )
            self.model_in_force = model

    # -- listings -------------------------------------------------------------------------

    def centre_for(self, v: Village, index: int) -> str:
        """The township's service station for every other listing where it has one, else the
        county's centre."""
        township = v.place.township
        return self.station_id(township) if township in self.stations and index % 2 == 0 else COUNTY_CENTRE

    def code_of(self, exchange: str) -> str:
        return self.story.root.area_code if exchange == COUNTY_CENTRE else exchange.removeprefix("exchange-")

    def new_listing(
        self,
        v: Village,
        index: int,
        holder: Household | Resident,
        right: dict[str, Any],
        quantity: int,
        reserve: int,
        increment: int,
        price_unit: str,
        opens: datetime,
        closes: datetime,
        exchange: str | None = None,
    ) -> SeedListing:
        """A listing numbered JY-<exchange code>-<year>-<serial>, its deposit a share of the deal
        at the reserve (rounded up to the yuan)."""
        exchange = exchange or self.centre_for(v, index)
        day = (self.desk.now + CST).date()
        key = (exchange, day.year)
        self.serials[key] = self.serials.get(key, 0) + 1
        listing = SeedListing(
            f"JY-{self.code_of(exchange)}-{day.year}-{self.serials[key]:03d}",
            exchange,
            v,
            holder,
            right,
            quantity,
            reserve,
            increment,
            0,
            price_unit,
            "auction",
            DEFAULT_POLICY.priority_model,
            opens,
            closes,
        )
        share_bp = self.rng.choice((1500, 2000, 3000))
        listing.deposit = -(-listing.value_at(reserve) * share_bp // 10_000 // 100) * 100
        listing.announce_ends = self.calendar.after(day, DEFAULT_POLICY.listing_notice_working_days)
        return listing

    def certificate_no(self, listing: SeedListing) -> str:
        return "JZ" + listing.id.removeprefix("JY")

    def reserve(self, listing: SeedListing) -> None:
        """An open listing's parcels are kept from other leases and swaps for its term."""
        holder = listing.holder
        if listing.right_type != "land_management" or not isinstance(holder, Household) or not listing.term:
            return
        assert holder.contract is not None
        leases = holder.contract.leased_until
        previous = self.reserved.get(listing.relisting_of.id) if listing.relisting_of else None
        self.reserved[listing.id] = previous or {
            p: leases[p] for p in listing.right["parcels"] if p in leases
        }
        for p in listing.right["parcels"]:
            leases[p] = listing.term[1]

    def release(self, listing: SeedListing) -> None:
        """A listing ended unsold and not to be relisted: its parcels are free again."""
        holder = listing.holder
        if not isinstance(holder, Household) or holder.contract is None or listing.id not in self.reserved:
            return
        before = self.reserved.pop(listing.id)
        for p in listing.right["parcels"]:
            if p in before:
                holder.contract.leased_until[p] = before[p]
            else:
                holder.contract.leased_until.pop(p, None)
