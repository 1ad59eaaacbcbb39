"""House vouchers (房票) in the county's story: every homestead a settled household withdraws (or
sells on the exchange) is compensated by the county's housing authority on the next processing
day (the 20th of the month: seed/vouchers_agenda.py), with a voucher or in cash as the household
chose in the withdrawal (a seller takes a voucher), its amount the schedule in force's price for
the plot's zone times its area plus the house's appraised value (the appraisal is what the
withdrawal's compensation adds to the land's price). Then each voucher lives out one of the
fates below, its acts on processing days some months after its issue, and expires (time-driven,
on the processing day after its last valid day) if anything is left on it; the remainder is paid
in cash under the county's par-share rule a month later.

Fates are dealt so that the story shows each at least once where time allows (a voucher that
would outlive the story takes one of the active fates): split between two transferees (one
spends its part, the other uses a little and is paid the rest at expiry), used beyond the par
share then expired at par, used a little in its second year and expired but not yet cashed out,
spent in two purchases, never used, used a little then expired less its bonus pro rata; and at
the ledger's head: partly used with its settlement stages paid as far as they are due, split
among three transferees, not used yet. Every redemption is settled to the developer stage by
stage (on contract, registration, handover) as the county pays. The arithmetic is the rules'
own (``contracts.vouchers.arithmetic``). No voucher is ever pledged: the rules have no such kind.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from contracts.vouchers.arithmetic import (
    add_months,
    bonus_bp,
    expiry_cash,
    face_value,
    month_of_voucher,
    redemption_bonus,
    stage_amounts,
    valid_until,
)
from seed.exchange_desk import SeedListing, cst
from seed.model import Homestead, Household, Village
from seed.people import age_on
from seed.story import digest
from seed.vouchers_agenda import Agenda, processing_time
from seed.vouchers_county import HOUSING_AUTHORITY, Terms, VoucherCounty

if TYPE_CHECKING:
    from seed.story import CountyStory

# After the last round the story's acts end before this: before the exchange's last season
# opens for bids (about three weeks after the round), so the ledger's head stays where it was.
HORIZON = timedelta(days=18)
# Processing months after the redemption each settlement stage is paid (a presale flat is
# registered the month after its contract and handed over a year and a half later).
STAGE_MONTHS = {"contract": 1, "registration": 2, "handover": 18}

# A fate: steps (months after issue; act). ("transfer", shares of the balance in bp) or
# ("redeem", which part (None: the voucher itself), share of its face in bp or None: all left).
Step = tuple[int, tuple[Any, ...]]
FATES: dict[str, list[Step]] = {
    "split": [(4, ("transfer", (6000, 4000))), (6, ("redeem", 0, None)), (9, ("redeem", 1, 3000))],
    "par": [(5, ("redeem", None, 9000))],
    "unclaimed": [(14, ("redeem", None, 4000))],
    "spent": [(3, ("redeem", None, 5500)), (13, ("redeem", None, None))],
    "unused": [],
    "deducted": [(2, ("redeem", None, 4000))],
    "partly": [(1, ("redeem", None, 4000))],
    "split_active": [(1, ("transfer", (5000, 3000, 2000))), (1, ("redeem", 0, 5000))],
    "fresh": [],
}
EXPIRING = ("split", "par", "unclaimed", "spent", "unused", "deducted")  # expire within the story
ACTIVE = ("partly", "split_active", "fresh")  # still valid at the ledger's head
NOT_CASHED = frozenset({"unclaimed"})  # the household has not come for the remainder yet


@dataclass(eq=False)
class SeedVoucher:
    """A voucher as the seed knows it (the rules' ``Voucher`` row, mirrored)."""

    id: str
    village: Village
    household: Household
    holders: list[str]
    issued_on: date
    valid_until: date
    face: int
    terms: Terms
    fate: str
    generation: int = 0
    used: int = 0
    bonus: int = 0
    transferred: int = 0
    status: str = "active"
    cash_due: int | None = None
    redemptions: int = 0
    parts: list[SeedVoucher] = field(default_factory=list)

    @property
    def balance(self) -> int:
        return self.face - self.used - self.transferred


class VoucherStory:
    def __init__(self, story: CountyStory) -> None:
        self.story = story
        self.rng = random.Random(f"{story.seed}/vouchers")
        self.ids = random.Random(f"{story.seed}/vouchers/ids")
        self.agenda = Agenda(story, "vouchers")
        self.county = VoucherCounty(story, self.agenda, self.rng, self.ids)
        self.horizon = datetime.max.replace(tzinfo=UTC)  # until plan() dates the end
        self.horizon_day = date.max
        self.vouchers: list[SeedVoucher] = []
        self.covered: set[str] = set()
        self.serials: dict[int, int] = {}
        from seed.quotas import QuotaStory  # it dates its acts on this agenda

        self.quotas = QuotaStory(story, self.agenda)

    @property
    def org_ids(self) -> list[str]:
        return self.county.org_ids

    def organisations(self, day: date) -> None:
        self.county.organisations(day)

    def plan(self, earliest: date, rounds: list[date]) -> None:
        """Date the county's and the quotas' acts from ``earliest`` (the story's first steps are
        told by then) until 18 days after the last round (nothing without a round)."""
        self.horizon_day = rounds[-1] + HORIZON if rounds else earliest
        self.horizon = cst(self.horizon_day, 0)  # no act on or after
        self.county.plan(earliest, self.horizon_day)
        self.quotas.plan(earliest, self.horizon_day)

    def on(self, day: date, label: str, act: Callable[[], None]) -> None:
        """Date ``act`` on the processing day on or after ``day``, if the story lasts till then."""
        when = processing_time(day)
        if when < self.horizon:
            self.agenda.at(when, label, act)

    def emit(self, actor: str, kind: str, payload: dict[str, Any]) -> None:
        self.story.emit(actor, kind, payload, self.ids)

    @property
    def today(self) -> date:
        return self.county.today

    # -- compensation -----------------------------------------------------------------------

    def withdrawn(self, v: Village, hh: Household, payload: dict[str, Any], day: date) -> None:
        """A homestead withdrawn in a round (seed/story.py): compensated on the processing day
        after, and offered for reclamation as a land quota."""
        homestead = hh.homestead
        assert homestead is not None
        self.on(day, "compensation", lambda: self.compensate(v, hh, homestead, payload))
        self.quotas.withdrawn(v, hh, homestead, day)

    def homestead_sold(self, listing: SeedListing) -> None:
        """A settled household's homestead sold on the exchange (seed/exchange.py): the county
        compensates the seller too, with a voucher, on the next processing day; the house is
        appraised at 80,000 to 300,000 yuan."""
        seller = listing.holder
        assert isinstance(seller, Household)
        sold = Homestead(str(listing.right["homestead"]), listing.quantity, held=False)
        appraisal_fen = self.rng.randrange(80_000, 300_001) * 100
        offer = {"compensation": "voucher", "appraisal_fen": appraisal_fen}
        self.on(self.today, "compensation", lambda: self.compensate(listing.village, seller, sold, offer))

    def compensate(self, v: Village, hh: Household, homestead: Homestead, withdrawal: dict[str, Any]) -> None:
        """``withdrawal``: the withdrawal's payload (its choice and amount), or for a homestead
        sold on the exchange the seller's choice and the house's appraisal."""
        today = self.today
        schedule, prices = self.county.schedule_in_force(today)
        area, zone = homestead.area_m2, v.place.zone
        if "appraisal_fen" in withdrawal:
            appraisal_fen = int(withdrawal["appraisal_fen"])
            amount = face_value(area, prices, zone, appraisal_fen)
        else:
            amount = int(withdrawal["compensation_fen"])
            appraisal_fen = amount - face_value(area, prices, zone, 0)
        assert appraisal_fen >= 0 and face_value(area, prices, zone, appraisal_fen) == amount
        common = {
            "homestead": homestead.id,
            "schedule": schedule,
            "appraisal": digest(homestead.id, "appraisal", today),
            "appraisal_fen": appraisal_fen,
        }
        if withdrawal["compensation"] == "cash":
            payment = digest(homestead.id, "compensation payment", today)
            self.emit(
                HOUSING_AUTHORITY,
                "voucher.cash_compensated",
                {**common, "amount_fen": amount, "payment": payment},
            )
            v.counts.cash_compensations += 1
            v.showcase.setdefault("cash_compensation_household", hh.id)
            return
        serial = self.serials[today.year] = self.serials.get(today.year, 0) + 1
        vid = f"FP-{self.story.root.area_code}-{today.year}-{serial:04d}"
        holders = [hh.head.party] + [m.party for m in hh.members if m is hh.head.spouse]
        terms = self.county.terms
        until = valid_until(today, terms.validity_months)
        voucher = SeedVoucher(vid, v, hh, holders, today, until, amount, terms, self.fate(today, until))
        self.emit(
            HOUSING_AUTHORITY,
            "voucher.issued",
            {"voucher": vid, **common, "holders": holders, "face_fen": amount},
        )
        self.vouchers.append(voucher)
        v.counts.vouchers += 1
        for months, step in FATES[voucher.fate]:
            self.on(add_months(today, months), step[0], functools.partial(self.act, voucher, step))
        self.date_expiry(voucher)

    def fate(self, issued: date, until: date) -> str:
        """The first fate not shown yet among those that fit the time left, else the next in turn."""
        expiring = processing_time(until + timedelta(days=1)) < self.horizon
        choices = EXPIRING if expiring else ACTIVE
        fits = [
            f
            for f in choices
            if all(processing_time(add_months(issued, m)) < self.horizon for m, _ in FATES[f])
        ]
        fresh = [f for f in fits if f not in self.covered]
        fate = fresh[0] if fresh else fits[len(self.vouchers) % len(fits)]
        self.covered.add(fate)
        return fate

    # -- a voucher's acts ------------------------------------------------------------------------

    def act(self, voucher: SeedVoucher, step: tuple[Any, ...]) -> None:
        if step[0] == "transfer":
            self.transfer(voucher, step[1])
            return
        _, part, share_bp = step
        target = voucher if part is None else voucher.parts[part] if part < len(voucher.parts) else None
        if target is None or target.status != "active" or self.today > target.valid_until:
            return
        amount = target.balance if share_bp is None else min(target.balance, target.face * share_bp // 10_000)
        if amount > 0:
            self.redeem(target, amount)

    def redeem(self, voucher: SeedVoucher, amount: int) -> None:
        project = self.county.projects_open(self.rng)
        if project is None:
            return
        today, rng = self.today, self.rng
        bp = bonus_bp(voucher.terms.tiers, month_of_voucher(voucher.issued_on, today))
        bonus = redemption_bonus(amount, bp)
        value = amount + bonus
        unit_area = rng.randrange(80, 141)
        drawn = unit_area * rng.randrange(6_000, 12_001) * 100
        price = max(drawn, -(-value * 12 // 10 // 100) * 100)  # the voucher pays part of it
        building, entrance, floor, room = (
            rng.randrange(1, 19),
            rng.randrange(1, 4),
            rng.randrange(2, 27),
            rng.randrange(1, 5),
        )
        unit = f"{building}-{entrance}-{floor}{room:02d}"  # 楼-单元-室
        voucher.redemptions += 1
        redemption = f"HX-{voucher.id}-{voucher.redemptions}"
        self.emit(
            project.developer,
            "voucher.redeemed",
            {
                "redemption": redemption,
                "voucher": voucher.id,
                "holder": voucher.holders[0],
                "project": project.id,
                "purchase_contract": digest(redemption, "purchase contract"),
                "unit": unit,
                "price_fen": price,
                "amount_fen": amount,
            },
        )
        voucher.used += amount
        voucher.bonus += bonus
        voucher.village.counts.voucher_redemptions += 1
        if voucher.balance == 0:
            voucher.status = "spent"
        if voucher.fate in ("partly", "split_active"):
            show = voucher.village.showcase
            show.setdefault("voucher", voucher.id)
            show.setdefault("voucher_household", voucher.household.id)
            show.setdefault("developer", project.developer)
        issued = voucher.issued_on
        for stage, fen in stage_amounts(value, voucher.terms.stages):
            when = processing_time(add_months(today, STAGE_MONTHS[stage]))
            if when >= self.horizon:
                break  # this stage and the later ones are not due yet at the ledger's head
            self.agenda.at(when, "settlement", functools.partial(self.settle, redemption, stage, fen, issued))

    def settle(self, redemption: str, stage: str, amount: int, issued: date) -> None:
        self.emit(
            HOUSING_AUTHORITY,
            "voucher.settled",
            {
                "redemption": redemption,
                "stage": stage,
                "amount_fen": amount,
                "payment": digest(redemption, stage, "settlement payment", issued),
            },
        )

    def transfer(self, voucher: SeedVoucher, shares: tuple[int, ...]) -> None:
        """Split among transferees of other households (the household keeps its floor area per
        person); the parts keep the voucher's terms, issue date and expiry."""
        if voucher.status != "active" or voucher.balance <= 0 or voucher.terms.transfers_allowed == 0:
            return
        takers = self.transferees(voucher.household, len(shares))
        if len(takers) < len(shares):
            return
        balance = voucher.balance
        amounts = [balance * bp // 10_000 for bp in shares[:-1]]
        amounts.append(balance - sum(amounts))
        parts = []
        for n, (taker, amount) in enumerate(zip(takers, amounts, strict=True), start=1):
            fate = "split_part_spent" if n == 1 and voucher.fate == "split" else "split_part"
            parts.append(
                SeedVoucher(
                    f"{voucher.id}-{n}",
                    voucher.village,
                    voucher.household,
                    [taker],
                    voucher.issued_on,
                    voucher.valid_until,
                    amount,
                    voucher.terms,
                    fate,
                    generation=voucher.generation + 1,
                )
            )
        members = len(voucher.household.members)
        today = self.today
        self.emit(
            HOUSING_AUTHORITY,
            "voucher.transferred",
            {
                "voucher": voucher.id,
                "consent": digest(voucher.id, "transfer consent", today),
                "housing_record": digest(voucher.household.id, "housing record", today),
                "household_floor_area_m2": voucher.terms.floor_m2_per_person * members
                + self.rng.randrange(10, 80),
                "parts": [{"voucher": p.id, "holders": p.holders, "amount_fen": p.face} for p in parts],
            },
        )
        voucher.transferred += balance
        voucher.status = "transferred"
        voucher.parts = parts
        voucher.village.showcase.setdefault("voucher_split", voucher.id)
        for p in parts:
            self.vouchers.append(p)
            self.date_expiry(p)

    def transferees(self, hh: Household, n: int) -> list[str]:
        """``n`` members of other households, 25 to 55, living in the county."""
        today = self.today
        found = [
            r.party
            for v in self.story.villages
            for r in v.living()
            if r.household is not hh and r.status == "active" and 25 <= age_on(r.born, today) <= 55
        ]
        return self.rng.sample(found, n) if len(found) >= n else []

    # -- expiry ------------------------------------------------------------------------------

    def date_expiry(self, voucher: SeedVoucher) -> None:
        self.on(voucher.valid_until + timedelta(days=1), "expiry", lambda: self.expire(voucher))

    def expire(self, voucher: SeedVoucher) -> None:
        """Past its last valid day with something left: expired, the remainder due in cash."""
        if voucher.status != "active":
            return
        cash = expiry_cash(
            voucher.face, voucher.used, voucher.bonus, voucher.balance, voucher.terms.par_share_bp
        )
        self.emit(HOUSING_AUTHORITY, "voucher.expired", {"voucher": voucher.id, "cash_fen": cash})
        voucher.status, voucher.cash_due = "expired", cash
        if voucher.fate not in NOT_CASHED:
            self.on(add_months(self.today, 1), "cash-out", lambda: self.cash_out(voucher))

    def cash_out(self, voucher: SeedVoucher) -> None:
        assert voucher.cash_due is not None
        self.emit(
            HOUSING_AUTHORITY,
            "voucher.cashed_out",
            {
                "voucher": voucher.id,
                "amount_fen": voucher.cash_due,
                "payment": digest(voucher.id, "cash-out payment", self.today),
            },
        )
        voucher.status = "cashed_out"
