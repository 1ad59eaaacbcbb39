"""The county's side of the house-voucher programme (房票) in the seed: its housing authority and
the developers it registers, the voucher policy numbers it sets, the construction-land quota
price schedules it publishes each year (2018-2026 in the default story), and its developer pool
with their housing projects (one of them in a neighbouring county, where no voucher of this
county is spent). The mirror kept here (schedules published, developers in the pool, the terms
in force) is what the vouchers' acts read, as the rules read the ledger.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from contracts.policy import DEFAULT_POLICY
from seed.story import entity_credit_code
from seed.vouchers_agenda import processing_day, processing_time

if TYPE_CHECKING:
    from seed.story import CountyStory
    from seed.vouchers_agenda import Agenda

HOUSING_AUTHORITY = "housing-authority"
# Developers of the county: id, registered name, admitted to the pool (years after the start;
# None: never), left it (years after the start; None: stays).
DEVELOPERS = (
    ("developer-1", "威海海润置业有限公司", 0, None),
    ("developer-2", "威海金岸房地产开发有限公司", 0, 6),
    ("developer-3", "荣成滨海置业有限公司", 0, None),
    ("developer-4", "乳山银滩新城房地产开发有限公司", 3, None),
)
OUTSIDE_AREA = "370687"  # 海阳市 (烟台): a project of the city-wide pool outside this county
# Construction-land quota prices in the first year, fen per m² by zone; each later schedule
# raises them a little. They stay below the 800 yuan per m² the story's withdrawals start at,
# so the house's appraised value is what a compensation adds on top.
FIRST_PRICES = {
    "suburb": 48_000,
    "plain": 36_000,
    "plain_saline": 26_000,
    "hilly_flat": 32_000,
    "hilly_slope": 24_000,
}
# The county's voucher terms (the policy's defaults, set explicitly), its monitoring targets,
# and from the seventh year a settlement in two stages for vouchers issued after.
VOUCHER_NUMBERS: dict[str, Any] = {
    "voucher_validity_months": DEFAULT_POLICY.voucher_validity_months,
    "voucher_bonus_bp_by_month": [list(t) for t in DEFAULT_POLICY.voucher_bonus_bp_by_month],
    "voucher_transfers_allowed": 1,
    "voucher_transfer_floor_m2_per_person": DEFAULT_POLICY.voucher_transfer_floor_m2_per_person,
    "voucher_par_share_bp": DEFAULT_POLICY.voucher_par_share_bp,
    "voucher_settlement_stages": [list(s) for s in DEFAULT_POLICY.voucher_settlement_stages],
    "land_quota_household_share_bp": DEFAULT_POLICY.land_quota_household_share_bp,
    "land_quota_site_household_share_bp": DEFAULT_POLICY.land_quota_site_household_share_bp,
    "monitoring_targets": {  # the demo county's five villages reach some of them
        "vouchers_issued_fen": 12_000_000_00,
        "vouchers_redeemed_fen": 8_000_000_00,
        "quota_confirmed_m2": 5_000,
        "quota_traded_m2": 6_000,
        "quota_used_m2": 4_000,
        "people_settled_in_town": 500,
    },
}
LATER_STAGES = [["contract", 5000], ["handover", 5000]]
LATER_STAGES_YEARS = 6


@dataclass
class Terms:
    """The voucher terms in force (what an issued voucher copies)."""

    validity_months: int
    tiers: list[list[int]]
    transfers_allowed: int
    floor_m2_per_person: int
    par_share_bp: int
    stages: list[list[Any]]

    @classmethod
    def of(cls, numbers: dict[str, Any]) -> Terms:
        return cls(
            numbers["voucher_validity_months"],
            numbers["voucher_bonus_bp_by_month"],
            numbers["voucher_transfers_allowed"],
            numbers["voucher_transfer_floor_m2_per_person"],
            numbers["voucher_par_share_bp"],
            numbers["voucher_settlement_stages"],
        )


@dataclass
class Project:
    id: str
    developer: str
    area_code: str


@dataclass
class VoucherCounty:
    """The county's programme as the seed knows it."""

    story: CountyStory
    agenda: Agenda
    rng: random.Random
    ids: random.Random
    schedules: list[tuple[date, str, dict[str, int]]] = field(default_factory=list)  # published
    in_pool: set[str] = field(default_factory=set)
    projects: list[Project] = field(default_factory=list)
    terms: Terms = field(default_factory=lambda: Terms.of(VOUCHER_NUMBERS))

    @property
    def root(self) -> str:
        return self.story.root.id

    @property
    def org_ids(self) -> list[str]:
        return [HOUSING_AUTHORITY] + [d[0] for d in DEVELOPERS]

    def emit(self, actor: str, kind: str, payload: dict[str, Any]) -> None:
        self.story.emit(actor, kind, payload, self.ids)

    # -- the first day: organisations, policy, the first schedule, the pool ----------------

    def organisations(self, day: date) -> None:
        from seed.orgkeys import public_key_of

        seed, county_code = self.story.seed, self.story.root.area_code
        self.emit(
            self.root,
            "org.registered",
            {
                "id": HOUSING_AUTHORITY,
                "name": f"{self.story.root.name}住房和城乡建设局",
                "type": "housing_authority",
                "parent": self.root,
                "public_keys": [public_key_of(seed, HOUSING_AUTHORITY)],
            },
        )
        for org, name, _, _ in DEVELOPERS:
            self.emit(
                self.root,
                "org.registered",
                {
                    "id": org,
                    "name": name,
                    "type": "developer",
                    "parent": self.root,
                    "public_keys": [public_key_of(seed, org)],
                    "credit_code": entity_credit_code(name, county_code),
                },
            )
        self.emit(self.root, "policy.set", {"numbers": VOUCHER_NUMBERS})
        self.publish(day, day, dict(FIRST_PRICES))
        for org, _, admitted, _ in DEVELOPERS:
            if admitted == 0:
                self.admit(org)

    def plan(self, earliest: date, horizon: date) -> None:
        """Date the yearly schedules (each December's processing day, in force from 1 January),
        the later admission and the departure from the pool, and the change of settlement
        stages, all from ``earliest`` (the story's own first steps are told by then) to
        ``horizon``."""
        start = self.story.start
        prices = dict(FIRST_PRICES)
        for year in range(start.year + 1, horizon.year + 1):
            published = processing_day(date(year - 1, 12, 1))
            if published < earliest or date(year, 1, 1) >= horizon:
                continue
            prices = {
                zone: fen * self.rng.randrange(102, 106) // 100 // 100 * 100 for zone, fen in prices.items()
            }
            self.agenda.at(
                processing_time(published),
                "price schedule",
                functools.partial(self.publish, published, date(year, 1, 1), dict(prices)),
            )
        for org, _, admitted, left in DEVELOPERS:
            joins = start + timedelta(days=365 * admitted)
            if admitted and earliest <= joins and processing_day(joins) < horizon:
                self.agenda.at(processing_time(joins), "developer pool", functools.partial(self.admit, org))
            leaves = start + timedelta(days=365 * left) if left is not None else None
            if leaves is not None and earliest <= leaves and processing_day(leaves) < horizon:
                self.agenda.at(processing_time(leaves), "developer pool", functools.partial(self.leave, org))
        change = processing_day(date(start.year + LATER_STAGES_YEARS, 7, 1))
        if earliest <= change < horizon:
            self.agenda.at(processing_time(change), "voucher policy", self.change_stages)

    def publish(self, today: date, effective: date, prices: dict[str, int]) -> None:
        schedule = f"JG-{self.story.root.area_code}-{effective:%Y%m%d}"
        self.emit(
            self.root,
            "voucher.prices_published",
            {"schedule": schedule, "effective_from": effective.isoformat(), "prices": prices},
        )
        self.schedules.append((effective, schedule, prices))

    def admit(self, developer: str) -> None:
        """Admitted with its projects: each developer's in the county's townships, the second
        one's also in the neighbouring county."""
        self.emit(self.root, "voucher.developer_admitted", {"developer": developer})
        self.in_pool.add(developer)
        index = int(developer.rsplit("-", 1)[1])
        townships = self.story.townships
        areas = [townships[(index + k) % len(townships)].code for k in range(2 if index == 1 else 1)]
        if index == 2:
            areas.append(OUTSIDE_AREA)
        for area in areas:
            n = len(self.projects) + 1
            project = Project(f"XM-{self.story.root.area_code}-{n:03d}", developer, area)
            self.emit(
                self.root,
                "voucher.project_registered",
                {
                    "project": project.id,
                    "developer": developer,
                    "presale_permit": f"YS{self.story.root.area_code}-{self.today.year}-{n:03d}",
                    "area_code": area,
                },
            )
            self.projects.append(project)

    def leave(self, developer: str) -> None:
        """The developer takes itself out of the pool: it redeems nothing after."""
        self.emit(developer, "voucher.developer_left", {"developer": developer})
        self.in_pool.discard(developer)

    def change_stages(self) -> None:
        self.emit(self.root, "policy.set", {"numbers": {"voucher_settlement_stages": LATER_STAGES}})
        self.terms = Terms.of({**VOUCHER_NUMBERS, "voucher_settlement_stages": LATER_STAGES})

    # -- what the vouchers' acts read --------------------------------------------------------

    @property
    def today(self) -> date:
        assert self.story.tick is not None
        return (self.story.tick.at + timedelta(hours=8)).date()

    def schedule_in_force(self, today: date) -> tuple[str, dict[str, int]]:
        _, schedule, prices = max(s for s in self.schedules if s[0] <= today)
        return schedule, prices

    def projects_open(self, rng: random.Random) -> Project | None:
        """A project in the county of a developer in the pool now."""
        county = self.story.root.area_code
        found = [p for p in self.projects if p.developer in self.in_pool and p.area_code.startswith(county)]
        return rng.choice(found) if found else None
