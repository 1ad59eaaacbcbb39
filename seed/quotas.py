"""Land quotas (增减挂钩节余指标 / 地票) in the county's story: a withdrawn homestead is reclaimed
to farmland and becomes a building-land quota, and so does one disused collective site.

Each step is recorded on a monthly processing day (seed/vouchers_agenda.py). The village
collective applies the month after the withdrawal (the household's and the collective's
consent), the county approves the reclamation project two months later, accepts the reclaimed
land eight months on with the area measured (验收), and confirms the quota a month after. The
month after, it is listed on the county's exchange centre like any other right (the
announcement with two companies registered and their deposits, their bids the working day after
the announcement, the award, then contract, payment and the exchange certificate, which moves
the quota to the winner, the next working day); on the processing day after the certificate the
centre splits the proceeds by the county's policy (85:15 between household and collective for a
homestead, all to the collective for a collective site), and four months later the county uses
the quota once, in a named city zone (落地). Quotas given up in the same round take their steps
together, on the same days.

Each reclaimed site is given how far it gets, the most advanced not shown yet among those that
fit before the story ends, so that the ledger's head holds quotas in every state (applied,
approved, accepted, confirmed and never listed, traded, used).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from contracts.policy import DEFAULT_POLICY
from contracts.vouchers.arithmetic import add_months
from seed.exchange_desk import Desk, SeedBidder, SeedListing, cst
from seed.exchange_rights import Entity
from seed.model import Homestead, Household, Village
from seed.story import digest, entity_credit_code
from seed.vouchers_agenda import processing_time

if TYPE_CHECKING:
    from seed.story import CountyStory
    from seed.vouchers_agenda import Agenda

COUNTY_CENTRE = "exchange-center"
# Processing months from one step to the next (a listing's own moments follow the exchange's
# working days; the proceeds are split on the processing day after its certificate), and from
# the site given up to each state, at most.
AFTER = {"applied": 1, "approved": 2, "accepted": 8, "confirmed": 1, "listed": 1, "used": 4}
MONTHS_TO = {"applied": 1, "approved": 3, "accepted": 11, "confirmed": 12, "traded": 15, "used": 19}
STATES = ("used", "traded", "confirmed", "accepted", "approved", "applied")  # most advanced first
LIFE = ("applied", "approved", "accepted", "confirmed", "listed", "traded", "used")
BUYERS = ("威海城乡建设投资有限公司", "威海市产业园区开发有限公司", "荣成市城市发展投资有限公司")
SITE_AREA = 1_800  # m², a disused village school's grounds


@dataclass(eq=False)
class SeedQuota:
    id: str
    village: Village
    household: Household | None  # None: a collective site
    site: dict[str, Any]
    site_area: int
    fate: str
    status: str = "none"
    quota_m2: int = 0
    listing: SeedListing | None = None


class QuotaStory:
    def __init__(self, story: CountyStory, agenda: Agenda) -> None:
        self.story, self.agenda = story, agenda
        self.rng = random.Random(f"{story.seed}/quotas")
        self.ids = random.Random(f"{story.seed}/quotas/ids")
        self.desk = Desk(story, story.seed, self.ids)
        self.desk.on_certified = self.traded
        self.horizon = datetime.max.replace(tzinfo=UTC)
        self.quotas: list[SeedQuota] = []
        self.covered: set[str] = set()

    def plan(self, earliest: date, horizon: date) -> None:
        """Dates the collective site's application, about a year after the start; no act on or
        after ``horizon``."""
        self.horizon = cst(horizon, 0)
        v = self.story.villages[0]
        day = max(earliest, add_months(self.story.start, 11))
        site = {"type": "collective_site", "parcel_code": f"{v.code}9700001", "area_m2": SITE_AREA}
        self.offer(v, None, site, SITE_AREA, day)

    def withdrawn(self, v: Village, hh: Household, homestead: Homestead, day: date) -> None:
        self.offer(v, hh, {"type": "homestead", "homestead": homestead.id}, homestead.area_m2, day)

    def offer(self, v: Village, hh: Household | None, site: dict[str, Any], area: int, day: date) -> None:
        """A site given up on ``day``: its quota's story, as far as time allows."""
        fate = self.fate(day)
        if fate is None:
            return
        n = len(self.quotas) + 1
        quota = SeedQuota(f"DP-{v.code}-{n:03d}", v, hh, site, area, fate)
        self.quotas.append(quota)
        self.on(add_months(day, AFTER["applied"]), lambda: self.apply(quota))

    def fate(self, day: date) -> str | None:
        """How far a quota given up on ``day`` gets: the most advanced state not shown yet
        among those that fit, else used and traded in turn (None: not even applied)."""
        fits = [s for s in STATES if processing_time(add_months(day, MONTHS_TO[s])) < self.horizon]
        if not fits:
            return None
        fresh = [s for s in fits if s not in self.covered]
        fate = fresh[0] if fresh else fits[len(self.quotas) % min(2, len(fits))]
        self.covered.add(fate)
        return fate

    def on(self, day: date, act: Callable[[], None]) -> None:
        """Date ``act`` on the processing day on or after ``day``, if the story lasts till then."""
        self.at(processing_time(day), act)

    def at(self, when: datetime, act: Callable[[], None], label: str = "land quota") -> None:
        if when < self.horizon:
            self.agenda.at(when, label, act)

    def emit(self, actor: str, kind: str, payload: dict[str, Any]) -> None:
        self.story.emit(actor, kind, payload, self.ids)

    @property
    def today(self) -> date:
        assert self.story.tick is not None
        return (self.story.tick.at + timedelta(hours=8)).date()

    def next(self, quota: SeedQuota, state: str, act: Callable[[], None]) -> None:
        """Date the act that brings ``state``, if the quota's story goes that far."""
        if LIFE.index(quota.fate) >= LIFE.index(state):
            self.on(add_months(self.today, AFTER[state]), act)

    # -- reclamation ---------------------------------------------------------------------------

    def apply(self, quota: SeedQuota) -> None:
        v, today = quota.village, self.today
        self.emit(
            v.id,
            "quota.applied",
            {
                "quota": quota.id,
                "site": quota.site,
                "holder_consent": digest(quota.id, "holder consent", today),
                "collective_consent": digest(quota.id, "collective consent", today),
            },
        )
        quota.status = "applied"
        v.counts.quotas += 1
        self.next(quota, "approved", lambda: self.approve(quota))

    def approve(self, quota: SeedQuota) -> None:
        self.emit(
            self.story.root.id,
            "quota.project_approved",
            {"quota": quota.id, "project_document": digest(quota.id, "reclamation project", self.today)},
        )
        quota.status = "approved"
        self.next(quota, "accepted", lambda: self.accept(quota))

    def accept(self, quota: SeedQuota) -> None:
        """The joint acceptance measures a little less than the site: its paths and walls."""
        measured = quota.site_area - quota.site_area * self.rng.randrange(0, 8) // 100
        self.emit(
            self.story.root.id,
            "quota.accepted",
            {
                "quota": quota.id,
                "measured_m2": measured,
                "acceptance_document": digest(quota.id, "acceptance", self.today),
            },
        )
        quota.status, quota.quota_m2 = "accepted", measured
        self.next(quota, "confirmed", lambda: self.confirm(quota))

    def confirm(self, quota: SeedQuota) -> None:
        self.emit(self.story.root.id, "quota.confirmed", {"quota": quota.id, "quota_m2": quota.quota_m2})
        quota.status = "confirmed"
        self.next(quota, "listed", lambda: self.list(quota))

    # -- on the exchange -----------------------------------------------------------------------

    def list(self, quota: SeedQuota) -> None:
        """Listed on the county's centre for a short auction (on the next working day if the
        processing day is not one), its two bidders registered at once; bidding the working day
        after the announcement, the award after the close, contract, payment and certificate
        the working day after (seed/exchange.py dates the exchange's own listings likewise)."""
        calendar, day = self.story.exchange.calendar, self.today
        if calendar.on_or_after(day) != day:
            self.at(cst(calendar.on_or_after(day), 10), lambda: self.list(quota))
            return
        opening = calendar.after(day, DEFAULT_POLICY.listing_notice_working_days + 1)
        certified = calendar.after(opening, 1)
        if processing_time(certified + timedelta(days=1)) >= self.horizon:
            return  # it stays confirmed, unlisted
        listing = self.new_listing(quota, day, cst(opening, 10), cst(opening, 10, 30))
        self.desk.announce(listing)
        self.register(listing)
        quota.listing = listing
        quota.village.showcase.setdefault("quota_listing", listing.id)
        label = "land quota on the exchange"
        self.at(cst(opening, 10), lambda: self.bid(listing), label)
        self.at(cst(opening, 11), lambda: self.award(listing), label)
        self.at(cst(certified, 10), lambda: self.settle(listing), label)

    def new_listing(self, quota: SeedQuota, day: date, opens: datetime, closes: datetime) -> SeedListing:
        """Numbered with the exchange's other listings (JY-<code>-<year>-<serial>); the reserve
        300 to 450 yuan per m², the deposit a fifth of it."""
        serials, key = self.story.exchange.serials, (COUNTY_CENTRE, day.year)
        serials[key] = serials.get(key, 0) + 1
        reserve = quota.quota_m2 * self.rng.randrange(300, 451) * 100
        holder = quota.household
        listing = SeedListing(
            f"JY-{self.story.root.area_code}-{day.year}-{serials[key]:03d}",
            COUNTY_CENTRE,
            quota.village,
            holder if holder is not None else quota.village.households[0],  # the mirror's holder, unread
            {"type": "land_quota", "quota": quota.id},
            quota.quota_m2,
            reserve,
            1_000_00,
            -(-reserve * 2_000 // 10_000 // 100) * 100,
            "total",
            "auction",
            DEFAULT_POLICY.priority_model,
            opens,
            closes,
        )
        return listing

    def register(self, listing: SeedListing) -> None:
        county = self.story.root.area_code
        buyers = [Entity(n, entity_credit_code(n, county), "company") for n in self.rng.sample(BUYERS, 2)]
        bidders = [
            self.desk.register(listing, e.bidder(), e.credit_code, False, entity=e.name) for e in buyers
        ]
        for b in bidders:
            self.desk.receive_deposit(listing, b)

    def bid(self, listing: SeedListing) -> None:
        first, second = listing.bidders
        steps = ((first, 0), (second, 1), (first, 2 + self.rng.randrange(0, 4)))
        for b, n in steps:
            self.desk.bid(listing, b, listing.reserve + n * listing.increment)

    def award(self, listing: SeedListing) -> None:
        self.desk.award(listing)
        self.desk.refund_losers(listing)

    def settle(self, listing: SeedListing) -> None:
        self.desk.sign_contract(listing)
        self.desk.confirm_payment(listing)
        self.desk.certify(listing, "JZ" + listing.id.removeprefix("JY"))

    def traded(self, listing: SeedListing, winner: SeedBidder) -> None:
        """The certificate moved the quota to the winner; the proceeds are split on the next
        processing day."""
        [quota] = [q for q in self.quotas if q.listing is listing]
        quota.status = "traded"
        quota.village.counts.quotas_traded += 1
        self.on(self.today + timedelta(days=1), lambda: self.split(quota))

    def split(self, quota: SeedQuota) -> None:
        assert quota.listing is not None
        value = quota.listing.value
        share = (
            DEFAULT_POLICY.land_quota_household_share_bp
            if quota.household is not None
            else DEFAULT_POLICY.land_quota_site_household_share_bp
        )
        household = value * share // 10_000
        self.emit(
            quota.listing.exchange,
            "quota.proceeds_split",
            {
                "quota": quota.id,
                "household_fen": household,
                "collective_fen": value - household,
                "payment": digest(quota.id, "proceeds", self.today),
            },
        )
        quota.village.showcase.setdefault("quota_traded", quota.id)
        if quota.fate == "used":
            self.on(add_months(self.today, AFTER["used"]), lambda: self.use(quota))

    def use(self, quota: SeedQuota) -> None:
        """落地: the quota lands once, in a zone of the city's plan."""
        n = sum(q.status == "used" for q in self.quotas) + 1
        zone = f"{quota.village.place.township.area.county_code}-KF{n:03d}"
        self.emit(
            self.story.root.id,
            "quota.used",
            {"quota": quota.id, "zone": zone, "approval": digest(quota.id, "land use approval", self.today)},
        )
        quota.status = "used"
        quota.village.showcase.setdefault("quota" if quota.household else "quota_site", quota.id)
