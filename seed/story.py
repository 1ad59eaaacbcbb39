"""A county's history as a sequence of dated ticks of entries, from a seed.

Pure: no I/O, no clock, no randomness but the seeded ``random.Random`` instances (one per
village, one for the county), so the same seed, root and start date give the same entries,
ids included. Each tick carries the ledger time it must be recorded at; the runner sets the
ledger's clock to it, signs each intent with its organisation's key and submits it.

The story (dates from ``start``):

- day 0, organisations: the county's policy numbers and working-day calendar, exchange
  center, townships (one or two with an exchange service station); each township registers
  its village collectives (valid N2 credit codes, 12-digit codes);
- day 14, registration: every village registers its people, households and members (one
  assembly decision, seven days' public notice);
- day 22, confirmation of members once the notice is over, then the second-round land
  contracts (1998-2027, 19-digit parcel codes) and homesteads within the zone's cap: land and
  homesteads go only to households with a member in force;
- day 120, asset verification (清产核资) and share quantification (折股量化) per collective,
  share certificates per household a week later;
- then every April and October: deaths (membership ends, shares inherited), births,
  marriages (split households, brides from the village, another village or outside the
  county), households and individuals settling in town (membership certificate, then the
  township's transfer filing certificate), homestead grants and paid withdrawals, land leases,
  parcel exchanges, paid exit of shares by buy-back, and each April a dividend; in the sixth
  year the second-round contracts are extended thirty years; each October the county
  declares the next year's working days. Admissions are confirmed eight days after their
  round;
- the exchange (seed/exchange.py): a season of listings run to their end between the last two
  rounds, and one left open after the last;
- house vouchers and land quotas (seed/vouchers.py, seed/quotas.py): the county's housing
  authority, developer pool and yearly price schedules; every withdrawn homestead compensated
  with a voucher or cash, as chosen, and reclaimed into a quota traded on the exchange, told on
  monthly processing days between the rounds.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from api.client import Person
from contracts.identifiers import credit_code_check_char
from contracts.policy import DEFAULT_POLICY
from seed.model import Contract, Counts, Homestead, Household, Resident, Village
from seed.people import ELSEWHERE, PersonMaker, age_on, birth_date, new_uuid, surname_of
from seed.places import Township, plan_townships, plan_villages, township_count

NOTICE_DAYS = DEFAULT_POLICY.membership_notice_days
CONTRACT_START, CONTRACT_END = date(1998, 1, 1), date(2027, 12, 31)
EXTENDED_END = date(2057, 12, 31)
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
BOUNDARIES = ("road", "ditch", "river", "hill", "collective_land", "village_border", "other")
TRANSFEREE_WORDS = ("丰收", "绿源", "海润", "金果", "沃土", "鑫农", "福山", "甜园")
TRANSFEREE_KINDS = (
    "果蔬专业合作社",
    "家庭农场",
    "农业发展有限公司",
    "苹果种植专业合作社",
    "花生种植专业合作社",
)


def entity_credit_code(name: str, county_code: str) -> str:
    """A transferee entity's unified social credit code, the same for the same name: 93 for a
    farmers' cooperative, 92 for a family farm, 91 for a company."""
    prefix = "93" if "合作社" in name else "92" if "家庭农场" in name else "91"
    digest_ = hashlib.sha256(name.encode()).digest()
    body = "".join(CREDIT_CHARS[b % len(CREDIT_CHARS)] for b in digest_[:9])
    first17 = f"{prefix}{county_code}{body}"
    return first17 + credit_code_check_char(first17)


OPERATING_ASSETS = ("factory_rental", "market", "cold_store", "berth", "shop", "livestock_farm")
LAND_CLASSES = (("arable", 70), ("garden", 20), ("forest", 5), ("other", 5))


@dataclass(frozen=True)
class Root:
    """The ledger's root organisation (the genesis county)."""

    id: str
    name: str
    area_code: str


@dataclass
class Intent:
    """One entry to sign and submit: ``person`` goes beside a ``party.registered`` entry,
    whose payload (commitment, blind index) the runner completes."""

    actor: str
    kind: str
    payload: dict[str, Any]
    id: str
    person: Person | None = None
    # Entries of one lane depend only on earlier entries of the same lane (a village's own
    # story), so lanes may be submitted concurrently; ``None`` orders against everything.
    lane: str | None = None


@dataclass
class Tick:
    at: datetime  # the ledger's clock while this tick's entries are appended
    label: str
    intents: list[Intent] = field(default_factory=list)


def ledger_time(day: date) -> datetime:
    """09:00 China Standard Time on ``day``."""
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)


def digest(*parts: object) -> str:
    """A stand-in document hash (minutes, agreements, audit statements)."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


class CountyStory:
    def __init__(
        self,
        seed: int,
        villages: int,
        root: Root,
        start: date,
        years: int = 8,
        households: tuple[int, int] = (75, 150),
    ) -> None:
        self.seed, self.root, self.start, self.years = seed, root, start, years
        self.rng = random.Random(f"{seed}/county")
        self.ids = random.Random(f"{seed}/county/ids")
        self.maker = PersonMaker(seed)
        self.households_range = households
        self.townships = plan_townships(self.rng, root.area_code, root.name, township_count(villages))
        self.villages = [
            Village(p, random.Random(f"{seed}/{p.id}"), random.Random(f"{seed}/{p.id}/ids"))
            for p in plan_villages(self.rng, self.townships, villages)
        ]
        self.credit_codes: set[str] = set()
        self.tick: Tick | None = None
        self.lane: str | None = None
        self.showcase: dict[str, str] = {}
        self.quantified = False
        from seed.exchange import ExchangeStory  # it builds on this module's helpers

        self.exchange = ExchangeStory(self)
        from seed.vouchers import VoucherStory  # house vouchers and land quotas (seed/vouchers.py)

        self.vouchers = VoucherStory(self)

    # -- output ---------------------------------------------------------------------------

    @property
    def org_ids(self) -> list[str]:
        """Every organisation the story registers (the runner derives their keys)."""
        return (
            ["exchange-center"]
            + [t.id for t in self.townships]
            + self.exchange.centre_ids
            + [v.id for v in self.villages]
            + self.vouchers.org_ids
        )

    def counts(self) -> Counts:
        total = Counts(townships=len(self.townships), villages=len(self.villages))
        for v in self.villages:
            total.add(v.counts)
        return total

    def emit(
        self, actor: str, kind: str, payload: dict[str, Any], rng: random.Random, person: Person | None = None
    ) -> Intent:
        assert self.tick is not None
        intent = Intent(actor, kind, payload, new_uuid(rng), person, self.lane)
        self.tick.intents.append(intent)
        return intent

    def ticks(self) -> Iterator[Tick]:
        """Every tick of the story, in order; build each only when the previous one is done.
        The exchange's ticks (seed/exchange.py) come between the rounds, in time order."""
        day = self.start
        yield self._tick(day, "organisations", self.organisations)
        yield self._tick(day + timedelta(days=14), "registration", self.registration)
        yield self._tick(
            day + timedelta(days=22), "confirmation, land and homesteads", self.land_and_homesteads
        )
        yield self._tick(day + timedelta(days=120), "assets and shares", self.shares)
        yield self._tick(day + timedelta(days=127), "share certificates", self.share_certificates)
        rounds = self.round_days()
        self.exchange.plan(list(rounds), day + timedelta(days=127))
        self.vouchers.plan(day + timedelta(days=128), list(rounds))
        for when, extend in rounds.items():
            yield from self.interludes(ledger_time(when))
            label = f"{when:%Y-%m} round"
            yield self._tick(when, label, lambda d, e=extend: self.round(d, e))
            if any(v.pending for v in self.villages):
                yield from self.interludes(ledger_time(when + timedelta(days=8)))
                yield self._tick(when + timedelta(days=8), f"{when:%Y-%m} confirmations", self.confirmations)
        yield from self.interludes(None)

    def interludes(self, limit: datetime | None) -> Iterator[Tick]:
        """The exchange's and the vouchers' ticks before ``limit``, in time order."""
        from seed.vouchers_agenda import interleave

        return interleave(limit, self.exchange, self.vouchers.agenda)

    def round_days(self) -> dict[date, bool]:
        """Every April and October round day after the first steps, and whether the land
        contracts are extended on it (once, in the sixth year)."""
        end = add_years(self.start, self.years)
        days: dict[date, bool] = {}
        extended = False
        for year in range(self.start.year, end.year + 1):
            for month in (4, 10):
                when = date(year, month, 10)
                if when <= self.start + timedelta(days=130) or when >= end:
                    continue
                extend = not extended and year >= self.start.year + 6
                extended = extended or extend
                days[when] = extend
        return days

    def _tick(self, day: date, label: str, build: Any) -> Tick:
        self.tick = Tick(ledger_time(day), f"{day.isoformat()} {label}")
        self.lane = None
        build(day)
        self.lane = None
        return self.tick

    # -- organisations ----------------------------------------------------------------------

    def organisations(self, day: date) -> None:
        from seed.orgkeys import public_key_of

        root = self.root.id
        self.emit(
            root,
            "policy.set",
            {
                "numbers": {
                    "membership_notice_days": NOTICE_DAYS,
                    "homestead_cap_m2": dict(DEFAULT_POLICY.homestead_cap_m2),
                    "membership_certificate_valid_days": DEFAULT_POLICY.membership_certificate_valid_days,
                    "collective_share_cap_bp": DEFAULT_POLICY.collective_share_cap_bp,
                    "holder_share_cap_bp": DEFAULT_POLICY.holder_share_cap_bp,
                }
            },
            self.ids,
        )
        self.exchange.declare_calendar(day.year)
        self.exchange.declare_calendar(day.year + 1)
        self.emit(
            root,
            "org.registered",
            {
                "id": "exchange-center",
                "name": f"{self.root.name}农村产权交易中心",
                "type": "exchange_center",
                "parent": root,
                "public_keys": [public_key_of(self.seed, "exchange-center")],
            },
            self.ids,
        )
        for t in self.townships:
            self.emit(
                root,
                "org.registered",
                {
                    "id": t.id,
                    "name": f"{t.name}人民政府",
                    "type": "township",
                    "parent": root,
                    "public_keys": [public_key_of(self.seed, t.id)],
                    "area_code": t.code,
                },
                self.ids,
            )
        self.exchange.register_stations()
        for v in self.villages:
            self.emit(
                v.place.township.id,
                "org.registered",
                {
                    "id": v.id,
                    "name": v.place.org_name,
                    "type": "village_collective",
                    "parent": v.place.township.id,
                    "public_keys": [public_key_of(self.seed, v.id)],
                    "area_code": v.code,
                    "credit_code": self.credit_code(v.place.township),
                },
                self.ids,
            )
        self.vouchers.organisations(day)

    def credit_code(self, township: Township) -> str:
        """A village collective's unified social credit code: N2, the registering county's
        code, a 9-character organisation code, the GB 32100 check character."""
        while True:
            body = "".join(self.rng.choice(CREDIT_CHARS) for _ in range(9))
            first17 = f"N2{township.area.county_code}{body}"
            code = first17 + credit_code_check_char(first17)
            if code not in self.credit_codes:
                self.credit_codes.add(code)
                return code

    # -- people and households --------------------------------------------------------------

    def resident(
        self,
        v: Village,
        day: date,
        age: int,
        sex: str,
        *,
        surname: str | None = None,
        area: str | None = None,
        born: date | None = None,
        phone: str | None = None,
    ) -> Resident:
        born = born or birth_date(v.rng, age, day)
        person = self.maker.person(v.rng, area or v.person_area, born, sex, surname=surname, phone=phone)
        r = Resident(person, born, sex, v)
        v.residents.append(r)
        v.counts.persons += 1
        self.emit(v.id, "party.registered", {}, v.ids, person)
        return r

    def couple(self, v: Village, day: date, age: int) -> tuple[Resident, Resident]:
        husband = self.resident(v, day, age, "M")
        wife = self.resident(v, day, max(20, age - v.rng.randrange(0, 5)), "F")
        husband.spouse, wife.spouse = wife, husband
        return husband, wife

    def children(self, v: Village, day: date, mother: Resident, father: Resident, n: int) -> list[Resident]:
        kids = []
        for _ in range(n):
            born = mother.born + timedelta(days=365 * v.rng.randrange(21, 39) + v.rng.randrange(365))
            if born >= day - timedelta(days=30):
                continue
            kid = self.resident(v, day, 0, v.rng.choice("MF"), surname=surname_of(father.person), born=born)
            mother.children += 1
            father.children += 1
            kids.append(kid)
        return kids

    def first_household(self, v: Village, day: date) -> list[tuple[Resident, str]]:
        """The people of one household at registration, head first, with their relation."""
        rng = v.rng
        shape = rng.choices(
            ("elder_single", "elder_couple", "family", "three_generations", "single"), (8, 17, 45, 22, 8)
        )[0]
        if shape == "elder_single":
            return [(self.resident(v, day, rng.randrange(65, 93), rng.choice("MF")), "head")]
        if shape == "single":
            return [(self.resident(v, day, rng.randrange(25, 56), "M"), "head")]
        if shape == "elder_couple":
            h, w = self.couple(v, day, rng.randrange(60, 89))
            return [(h, "head"), (w, "spouse")]
        h, w = self.couple(v, day, rng.randrange(28, 60) if shape == "family" else rng.randrange(30, 56))
        people = [(h, "head"), (w, "spouse")]
        if shape == "three_generations":
            grandfather = self.resident(
                v,
                day,
                min(95, age_on(h.born, day) + rng.randrange(24, 34)),
                "M",
                surname=surname_of(h.person),
            )
            people.append((grandfather, "parent"))
            if rng.random() < 0.6:
                grandmother = self.resident(v, day, age_on(grandfather.born, day) - rng.randrange(0, 4), "F")
                grandfather.spouse, grandmother.spouse = grandmother, grandfather
                people.append((grandmother, "parent"))
        kids = self.children(v, day, w, h, rng.choices((0, 1, 2, 3), (15, 45, 35, 5))[0])
        return people + [(k, "child") for k in kids]

    def register_household(self, v: Village, day: date) -> Household:
        people = self.first_household(v, day)
        head = people[0][0]
        hh = Household(new_uuid(v.ids), v, head, [p for p, _ in people], {p.party: rel for p, rel in people})
        for p in hh.members:
            p.household = hh
        v.households.append(hh)
        v.counts.households += 1
        self.emit(
            v.id,
            "household.registered",
            {
                "household": hh.id,
                "head": head.party,
                "members": [{"party": p.party, "relation": rel} for p, rel in people],
            },
            v.ids,
        )
        return hh

    def decision(self, v: Village, day: date, *, contested: bool = False) -> dict[str, Any]:
        rng = v.rng
        adults = sum(
            1
            for r in v.residents
            if r.alive and r.status in ("active", "settled", "none") and age_on(r.born, day) >= 18
        )
        representatives = adults > 60 and rng.random() < 0.3
        eligible = rng.randrange(21, 46) if representatives else max(1, adults)
        floor = -(-2 * eligible // 3) if representatives else max(1, eligible // 2 + 1)
        attendance = min(eligible, max(floor, round(eligible * rng.uniform(0.7, 0.97))))
        need = -(-2 * attendance // 3) if contested else attendance // 2 + 1
        votes = min(attendance, max(need, round(attendance * rng.uniform(0.72, 0.99))))
        return {
            "meeting": "representatives_meeting" if representatives else "members_assembly",
            "eligible": eligible,
            "attendance": attendance,
            "votes_for": votes,
            "contested": contested,
            "notice_start": day.isoformat(),
            "notice_end": (day + timedelta(days=NOTICE_DAYS)).isoformat(),
            "evidence": [digest(v.id, "minutes", day)],
        }

    def admit(self, v: Village, r: Resident, basis: str, decision: dict[str, Any]) -> None:
        assert r.household is not None
        self.emit(
            v.id,
            "member.admitted",
            {"party": r.party, "basis": basis, "household": r.household.id, "decision": decision},
            v.ids,
        )
        r.status = "notice"
        v.pending.append(r)
        v.counts.members += 1

    # -- land and homesteads ----------------------------------------------------------------

    def contract(self, v: Village, hh: Household) -> None:
        rng = v.rng
        n = v.next("contract")
        parcels = []
        per_person = rng.randrange(600, 1400)
        count = min(5, 1 + len(hh.members) // 2)
        total = per_person * len(hh.members)
        classes, weights = zip(*LAND_CLASSES, strict=True)
        for i in range(count):
            code = f"{v.code}{rng.randrange(1, 9):02d}{v.next('parcel'):05d}"
            area = max(80, total // count + rng.randrange(-60, 61))
            land_class = "arable" if i == 0 else rng.choices(classes, weights)[0]
            parcels.append(
                {
                    "code": code,
                    "area_m2": area,
                    "land_class": land_class,
                    "boundaries": {side: self.boundary(v) for side in ("east", "south", "west", "north")},
                }
            )
            v.last_parcel = code
        cid = f"HT{v.code}{n:04d}"
        hh.contract = Contract(cid, {p["code"]: p["area_m2"] for p in parcels}, CONTRACT_END)
        v.counts.parcels += len(parcels)
        self.emit(
            v.id,
            "land.contract_issued",
            {
                "contract": cid,
                "household": hh.id,
                "certificate_no": f"{v.code}{n:04d}J",
                "term_start": CONTRACT_START.isoformat(),
                "term_end": CONTRACT_END.isoformat(),
                "parcels": parcels,
            },
            v.ids,
        )

    def boundary(self, v: Village) -> str:
        """A neighbouring parcel's code or a feature: never a neighbour's name."""
        if v.rng.random() < 0.5 and v.last_parcel:
            return v.last_parcel
        return v.rng.choice(BOUNDARIES)

    def grant_homestead(self, v: Village, hh: Household, day: date) -> None:
        cap = DEFAULT_POLICY.homestead_cap_m2[v.place.zone]
        n = v.next("homestead")
        area = v.rng.randrange(int(cap * 0.6), cap + 1)
        hid = f"ZJ{v.code}{n:04d}"
        hh.homestead = Homestead(hid, area)
        v.counts.homesteads += 1
        self.emit(
            v.id,
            "homestead.granted",
            {
                "homestead": hid,
                "household": hh.id,
                "plot_code": f"{v.code}00{n:05d}",
                "area_m2": area,
                "zone": v.place.zone,
                "certificate_no": f"鲁({day.year}){v.place.township.area.name}不动产权第"
                f"{int(v.code[-6:]) * 100 + n:07d}号",
            },
            v.ids,
        )

    # -- the big days -----------------------------------------------------------------------

    def registration(self, day: date) -> None:
        for v in self.villages:
            self.lane = v.id
            self.maker.reseed(v.rng)
            low, high = self.households_range
            households = [self.register_household(v, day) for _ in range(v.rng.randrange(low, high))]
            decision = self.decision(v, day)
            for hh in households:
                for r in hh.members:
                    self.admit(v, r, "hukou", decision)

    def land_and_homesteads(self, day: date) -> None:
        """The members confirmed, each registered household gets its land contract and most a
        homestead."""
        self.confirmations(day)
        for v in self.villages:
            self.lane = v.id
            for hh in v.active_households():
                self.contract(v, hh)
                if v.rng.random() < 0.93:
                    self.grant_homestead(v, hh, day)

    def confirmations(self, day: date) -> None:
        for v in self.villages:
            self.lane = v.id
            for r in v.pending:
                if r.status == "notice" and r.alive:
                    self.emit(v.id, "member.confirmed", {"party": r.party}, v.ids)
                    r.status = "active"
            v.pending = []

    def shares(self, day: date) -> None:
        """清产核资 then 折股量化: every member active on the day gets a basic share and a
        labour-age share; the collective keeps a fifth; one certificate per household."""
        for v in self.villages:
            self.lane = v.id
            rng = v.rng
            operating = [
                {"category": c, "value_fen": rng.randrange(20, 800) * 10_000_00}
                for c in rng.sample(OPERATING_ASSETS, rng.randrange(1, 4))
            ]
            worth = sum(a["value_fen"] for a in operating)
            self.emit(
                v.id,
                "assets.verified",
                {
                    "verification": f"QC{v.code}{day.year}",
                    "as_of": day.isoformat(),
                    "operating_assets": operating,
                    "liabilities_fen": worth * rng.randrange(0, 30) // 100,
                    "resource_assets": [
                        {"category": "collective_forest", "area_m2": rng.randrange(5, 300) * 667},
                        {"category": "barren_hills", "area_m2": rng.randrange(1, 100) * 667},
                    ],
                    "non_operating_assets": [
                        {"category": "village_office", "value_fen": rng.randrange(20, 200) * 10_000_00}
                    ],
                    "audit_statement": digest(v.id, "audit", day),
                },
                v.ids,
            )
            allocations = []
            for hh in v.active_households():
                for r in hh.members:
                    if r.status in ("active", "settled"):
                        years = min(40, max(0, age_on(r.born, day) - 18))
                        allocations.append(
                            {
                                "party": r.party,
                                "household": hh.id,
                                "basic_units": 100,
                                "labour_years": years,
                                "labour_units": 2 * years,
                            }
                        )
                        v.holdings[r.party] = [100 + 2 * years, hh.id]
            members = sum(a["basic_units"] + a["labour_units"] for a in allocations)
            collective = members // 4  # a fifth of the total
            v.issued_units = v.total_units = members + collective
            self.emit(
                v.id,
                "shares.quantified",
                {
                    "scheme": f"GF{v.code}",
                    "verification": f"QC{v.code}{day.year}",
                    "scheme_date": day.isoformat(),
                    "basic_units_per_member": 100,
                    "labour_units_per_year": 2,
                    "collective_units": collective,
                    "total_units": v.issued_units,
                    "allocations": allocations,
                },
                v.ids,
            )
        self.quantified = True

    def share_certificates(self, day: date) -> None:
        """One share certificate per household, listing exactly what it holds. A tick of its
        own: in the quantifications' batch, each certificate's check would scan every holding
        they staged."""
        for v in self.villages:
            self.lane = v.id
            by_household: dict[str, dict[str, int]] = {}
            for party, (units, household) in v.holdings.items():
                if units > 0:
                    by_household.setdefault(household, {})[party] = units
            for hh in v.active_households():
                if hh.id in by_household:
                    v.counts.certificates += 1
                    self.emit(
                        v.id,
                        "shares.certificate_issued",
                        {
                            "certificate": f"GQ{v.code}{v.next('share-cert'):04d}",
                            "household": hh.id,
                            "holdings": by_household[hh.id],
                        },
                        v.ids,
                    )

    # -- a half-year round ------------------------------------------------------------------

    def round(self, day: date, extend: bool) -> None:
        if day.month == 10:  # the next year's holidays are out by now
            self.exchange.declare_calendar(day.year + 1)
        crossings: list[tuple[Village, Resident]] = []
        for v in self.villages:
            self.lane = v.id
            self.maker.reseed(v.rng)
            state = Round(self, v, day)
            state.release_pledges()
            state.deaths()
            state.settlements()
            state.births()
            crossings += state.marriages()
            state.homesteads()
            state.leases()
            state.exchange()
            state.buybacks()
            if day.month == 4 and self.quantified and day.year > self.start.year:
                state.dividend()
            if extend:
                state.extend()
            state.share_dealings()
        self.lane = None
        for v, groom in crossings:  # after every village's own events: brides move villages
            Round(self, v, day).marry_across(groom, self.villages)


# Chances, per holder and half-year round, of selling half its shares to a fellow member and
# of pledging half for a loan: a few hundred of each per village over nine years would make
# share dealings a tenth of the ledger, more than villages see.
SHARE_SALE, SHARE_PLEDGE = 0.002, 0.002

MORTALITY = ((1, 0.006), (40, 0.001), (60, 0.004), (70, 0.012), (80, 0.035), (90, 0.10), (200, 0.25))


def yearly_mortality(age: int) -> float:
    return next(rate for limit, rate in MORTALITY if age < limit)


class Round:
    """One village's events on one round day."""

    def __init__(self, story: CountyStory, v: Village, day: date) -> None:
        self.story, self.v, self.day, self.rng = story, v, day, v.rng
        self._decision: dict[bool, dict[str, Any]] = {}

    def emit(
        self, kind: str, payload: dict[str, Any], actor: str | None = None, person: Person | None = None
    ) -> Intent:
        return self.story.emit(actor or self.v.id, kind, payload, self.v.ids, person)

    def decision(self, contested: bool = False) -> dict[str, Any]:
        if contested not in self._decision:
            self._decision[contested] = self.story.decision(self.v, self.day, contested=contested)
        return self._decision[contested]

    def age(self, r: Resident) -> int:
        return age_on(r.born, self.day)

    # deaths ---------------------------------------------------------------------------------

    def deaths(self) -> None:
        for r in self.v.living():
            if r.status in ("active", "settled") and self.rng.random() < yearly_mortality(self.age(r)) / 2:
                self.die(r)

    def die(self, r: Resident) -> None:
        v, hh = self.v, r.household
        assert hh is not None
        intent = self.emit(
            "member.status_changed",
            {"party": r.party, "reason": "death", "evidence": [digest(r.party, "death", self.day)]},
        )
        v.showcase.setdefault("death", intent.id)
        v.counts.deaths += 1
        r.alive, r.status = False, "ended"
        self.inherit(r)
        hh.members.remove(r)
        payload: dict[str, Any] = {"household": hh.id, "party": r.party, "reason": "death"}
        if hh.head is r and hh.members:
            spouse = r.spouse if r.spouse in hh.members else None
            hh.head = spouse or min(hh.members, key=lambda m: m.born)
            payload["new_head"] = hh.head.party
        self.emit("household.member_removed", payload)
        if not hh.members:
            hh.dissolved = True
        if r.spouse is not None:
            r.spouse.spouse = None
        r.household = None

    def inherit(self, r: Resident) -> None:
        """The deceased's shares go to the spouse, else the eldest member of the household."""
        v = self.v
        held = v.holdings.get(r.party)
        if not held or held[0] <= 0 or r.household is None:
            return
        heirs = [m for m in r.household.members if m is not r]
        if not heirs:
            return
        heir = r.spouse if r.spouse in heirs else min(heirs, key=lambda m: m.born)
        mine = v.holdings.get(heir.party, [0, heir.household.id if heir.household else None])
        if (mine[0] + held[0]) * 10_000 > DEFAULT_POLICY.holder_share_cap_bp * v.total_units:
            return
        self.emit(
            "shares.inherited",
            {
                "deceased": r.party,
                "heir": heir.party,
                "units": held[0],
                "evidence": digest(r.party, "will", self.day),
            },
        )
        v.holdings[heir.party] = [mine[0] + held[0], mine[1]]
        held[0] = 0

    # settling in town -----------------------------------------------------------------------

    def settlements(self) -> None:
        v = self.v
        for hh in v.active_households():
            if hh.settled or not all(m.status == "active" for m in hh.members):
                continue
            if self.rng.random() < 0.012:
                self.settle(hh, hh.members, "household")
            else:
                for m in hh.members:
                    if 18 <= self.age(m) <= 40 and self.rng.random() < 0.006:
                        self.settle(hh, [m], "individual")
                        break

    def settle(self, hh: Household, persons: list[Resident], scope: str) -> None:
        v = self.v
        rights = hh.rights()
        mc = f"MC{v.code}{v.next('membership-cert'):04d}"
        tf = f"TF{v.code}{v.next('transfer-cert'):04d}"
        self.emit(
            "certificate.membership_issued",
            {"certificate": mc, "household": hh.id, "persons": [p.party for p in persons], "rights": rights},
        )
        intent = self.emit(
            "certificate.transfer_filed",
            {
                "certificate": tf,
                "village": v.id,
                "scope": scope,
                "household": hh.id,
                "persons": [p.party for p in persons],
                "membership_certificate": mc,
                "rights": rights,
            },
            actor=v.place.township.id,
        )
        if scope == "household" and rights["land_contracts"] and rights["homesteads"]:
            v.showcase.setdefault("transfer_filing_household", intent.id)
            v.showcase.setdefault("transfer_certificate", tf)
            v.showcase.setdefault("settled_household", hh.id)
            v.showcase.setdefault("settled_person", persons[0].party)
        v.showcase.setdefault(f"transfer_filing_{scope}", intent.id)
        v.counts.certificates += 2
        v.counts.settled_persons += len(persons)
        for p in persons:
            p.status = "settled"
        hh.settled = scope == "household" or all(m.status == "settled" for m in hh.members)

    # births ---------------------------------------------------------------------------------

    def births(self) -> None:
        v = self.v
        for mother in v.living():
            father = mother.spouse
            if (
                mother.sex != "F"
                or father is None
                or father.household is not mother.household
                or mother.status != "active"
                or not 22 <= self.age(mother) <= 40
                or mother.children >= 3
            ):
                continue
            if self.rng.random() < (0.07, 0.045, 0.008)[mother.children]:
                self.birth(mother, father)

    def birth(self, mother: Resident, father: Resident) -> None:
        v, hh = self.v, mother.household
        assert hh is not None
        born = self.day - timedelta(days=self.rng.randrange(10, 180))
        baby = self.story.resident(
            v,
            self.day,
            0,
            self.rng.choice("MF"),
            surname=surname_of(father.person),
            born=born,
            phone=father.person.phone,
        )
        relation = {"head": "child", "spouse": "child", "child": "grandchild"}.get(
            hh.relation.get(father.party, "other"), "other"
        )
        self.join(hh, baby, relation)
        self.story.admit(v, baby, "birth", self.decision())
        mother.children += 1
        father.children += 1
        v.counts.births += 1

    def join(self, hh: Household, r: Resident, relation: str) -> None:
        self.emit("household.member_added", {"household": hh.id, "party": r.party, "relation": relation})
        hh.members.append(r)
        hh.relation[r.party] = relation
        r.household = hh

    # marriages ------------------------------------------------------------------------------

    def marriages(self) -> list[tuple[Village, Resident]]:
        """Marriages in the village; grooms whose bride comes from another village are
        returned, to be married once every village has had its own events."""
        across = []
        for groom in self.v.living():
            if (
                groom.sex != "M"
                or groom.spouse is not None
                or groom.status != "active"
                or not 23 <= self.age(groom) <= 36
                or self.rng.random() >= 0.09
            ):
                continue
            where = self.rng.random()
            if where < 0.2 and len(self.story.villages) > 1:
                across.append((self.v, groom))
                continue
            self.marry(groom, self.local_bride(groom) if where < 0.55 else None)
        return across

    def eligible_bride(self, r: Resident, groom: Resident) -> bool:
        hh = r.household
        return (
            r.sex == "F"
            and r.alive
            and r.spouse is None
            and r.status == "active"
            and hh is not None
            and hh is not groom.household
            and hh.head is not r
            and len(hh.members) > 1
            and 20 <= self.age(r) <= 35
        )

    def local_bride(self, groom: Resident) -> Resident | None:
        brides = [r for r in self.v.living() if self.eligible_bride(r, groom)]
        return self.rng.choice(brides) if brides else None

    def groom_household(self, groom: Resident) -> Household:
        """A groom who is not the head of his household sets up his own (分户)."""
        v, hh = self.v, groom.household
        assert hh is not None
        if hh.head is groom:
            return hh
        new = Household(new_uuid(v.ids), v, groom, [groom], {groom.party: "head"})
        intent = self.emit(
            "household.split",
            {
                "household": hh.id,
                "new_household": new.id,
                "head": groom.party,
                "members": [{"party": groom.party, "relation": "head"}],
                "reason": "marriage",
            },
        )
        v.showcase.setdefault("household_split", intent.id)
        hh.members.remove(groom)
        groom.household = new
        v.households.append(new)
        v.counts.households += 1
        return new

    def marry(self, groom: Resident, bride: Resident | None, from_village: Village | None = None) -> None:
        """``bride`` None: from outside the county; with ``from_village``: from another
        collective of the county; else from this village."""
        v = self.v
        home = self.groom_household(groom)
        if bride is None:  # from outside the county: registered and admitted by marriage
            area = self.rng.choice(ELSEWHERE)
            bride = self.story.resident(
                v, self.day, min(self.age(groom), self.rng.randrange(21, 34)), "F", area=area
            )
        elif from_village is not None:  # from another collective: her membership moves
            old = bride.household
            assert old is not None
            self.story.emit(
                from_village.id,
                "member.status_changed",
                {
                    "party": bride.party,
                    "reason": "joined_other_collective",
                    "evidence": [digest(bride.party, "marriage", self.day)],
                },
                from_village.ids,
            )
            self.story.emit(
                from_village.id,
                "household.member_removed",
                {"household": old.id, "party": bride.party, "reason": "marriage_out"},
                from_village.ids,
            )
            old.members.remove(bride)
            from_village.residents.remove(bride)
            v.residents.append(bride)
            bride.village, bride.status = v, "ended"
        else:  # from the same village: she moves households, her membership stays
            old = bride.household
            assert old is not None
            self.emit(
                "household.member_removed",
                {"household": old.id, "party": bride.party, "reason": "marriage_out"},
            )
            old.members.remove(bride)
        self.join(home, bride, "spouse")
        groom.spouse, bride.spouse = bride, groom
        v.counts.marriages += 1
        if bride.status in ("none", "ended"):
            contested = self.rng.random() < 0.1
            self.story.admit(v, bride, "marriage", self.decision(contested))
            if contested:  # an objection during the notice, heard and not upheld
                self.emit(
                    "member.objection_filed",
                    {"party": bride.party, "objection": digest(bride.party, "objection")},
                )
                intent = self.emit(
                    "member.objection_resolved",
                    {
                        "party": bride.party,
                        "upheld": False,
                        "decision": digest(bride.party, "objection decision"),
                    },
                )
                v.showcase.setdefault("objection_resolved", intent.id)

    def marry_across(self, groom: Resident, villages: list[Village]) -> None:
        if not (groom.alive and groom.spouse is None and groom.status == "active"):
            return
        others = [x for x in villages if x is not self.v]
        source = self.rng.choice(others)
        brides = [r for r in source.living() if self.eligible_bride(r, groom)]
        if not brides:
            self.marry(groom, None)
            return
        self.marry(groom, self.rng.choice(brides), from_village=source)

    # homesteads, land, shares ---------------------------------------------------------------

    def homesteads(self) -> None:
        v = self.v
        for hh in v.active_households():
            held = hh.homestead is not None and hh.homestead.held
            if hh.settled and held and self.rng.random() < 0.06:
                self.withdraw(hh)
            elif not held and not hh.settled and not hh.house_given_up and self.rng.random() < 0.15:
                self.story.grant_homestead(v, hh, self.day)

    def withdraw(self, hh: Household) -> None:
        assert hh.homestead is not None
        voucher = self.rng.random() < 0.6
        fen = (
            hh.homestead.area_m2 * self.rng.randrange(800, 2000) * 100 + self.rng.randrange(50, 300) * 1000_00
        )
        intent = self.emit(
            "homestead.withdrawn",
            {
                "homestead": hh.homestead.id,
                "compensation": "voucher" if voucher else "cash",
                "compensation_fen": fen,
                "agreement": digest(hh.id, "withdrawal", self.day),
            },
        )
        self.v.showcase.setdefault("homestead_withdrawn", intent.id)
        self.story.vouchers.withdrawn(self.v, hh, intent.payload, self.day)
        hh.homestead.held = False
        hh.house_given_up = True

    def leases(self) -> None:
        for hh in self.v.active_households():
            c = hh.contract
            if c is None or self.rng.random() >= (0.12 if hh.settled else 0.02):
                continue
            free = [p for p in sorted(c.parcels) if c.leased_until.get(p, date.min) < self.day]
            if free:
                self.lease(c, free if hh.settled else free[:1])

    def lease(self, c: Contract, parcels: list[str]) -> None:
        v, rng = self.v, self.rng
        end = min(c.term_end, add_years(self.day, rng.choice((3, 5, 10, 15))))
        if end <= self.day:
            return
        mode = rng.choices(("lease", "subcontract", "shares"), (70, 15, 15))[0]
        town = v.place.township.name
        name = f"{town}{rng.choice(TRANSFEREE_WORDS)}{rng.choice(TRANSFEREE_KINDS)}"
        transferee = {
            "type": "entity",
            "name": name,
            "credit_code": entity_credit_code(name, v.place.township.area.county_code),
        }
        intent = self.emit(
            "land.management_transferred",
            {
                "transfer": f"LZ{v.code}{v.next('transfer'):04d}",
                "contract": c.id,
                "mode": mode,
                "transferee": transferee,
                "parcels": parcels,
                "term_start": self.day.isoformat(),
                "term_end": end.isoformat(),
                "agricultural_use": True,
                "written_contract": digest(c.id, "lease", self.day),
                "household_consent": digest(c.id, "consent", self.day),
            },
        )
        v.showcase.setdefault("land_lease", intent.id)
        for p in parcels:
            c.leased_until[p] = end

    def exchange(self) -> None:
        """Now and then two households swap a parcel each (互换), to farm them together."""
        if self.rng.random() >= 0.3:
            return
        candidates = [
            hh
            for hh in self.v.active_households()
            if not hh.settled
            and hh.contract
            and len(hh.contract.parcels) >= 2
            and self.free_parcel(hh.contract)
        ]
        if len(candidates) < 2:
            return
        a, b = self.rng.sample(candidates, 2)
        assert a.contract and b.contract
        pa, pb = self.free_parcel(a.contract), self.free_parcel(b.contract)
        assert pa and pb
        intent = self.emit(
            "land.contracts_exchanged",
            {
                "contract": a.contract.id,
                "parcels": [pa],
                "other_contract": b.contract.id,
                "other_parcels": [pb],
                "consent": digest(a.id, b.id, "exchange", self.day),
            },
        )
        self.v.showcase.setdefault("land_exchange", intent.id)
        b.contract.parcels[pa] = a.contract.parcels.pop(pa)
        a.contract.parcels[pb] = b.contract.parcels.pop(pb)

    def free_parcel(self, c: Contract) -> str | None:
        free = [p for p in sorted(c.parcels) if p not in c.leased_until]
        return free[-1] if free else None

    def buybacks(self) -> None:
        """Paid exit: settled members now and then sell their shares back to the collective,
        within the annual buy-back cap."""
        v = self.v
        if not v.issued_units:
            return
        cap = DEFAULT_POLICY.buyback_cap_bp_per_year * v.issued_units
        for r in v.living():
            held = v.holdings.get(r.party)
            if r.status != "settled" or not held or held[0] <= 0 or self.rng.random() >= 0.03:
                continue
            so_far = v.bought_back.get(self.day.year, 0)
            if (so_far + held[0]) * 10_000 > cap:
                continue
            intent = self.emit(
                "shares.bought_back",
                {
                    "holder": r.party,
                    "units": held[0],
                    "price_fen": held[0] * self.rng.randrange(40, 120) * 100,
                    "agreement": digest(r.party, "buy-back", self.day),
                },
            )
            v.showcase.setdefault("share_buyback", intent.id)
            v.bought_back[self.day.year] = so_far + held[0]
            v.total_units -= held[0]
            held[0] = 0

    def share_dealings(self) -> None:
        """Now and then a holder sells half its shares to a fellow member (transfers stay
        inside the collective, within the per-holder cap), or an active member pledges half
        to the township's rural commercial bank for a loan. Pledges are made last in a round
        and released first in the next, so no death, buy-back or inheritance meets pledged
        units."""
        v = self.v
        if not v.issued_units:
            return
        cap = DEFAULT_POLICY.holder_share_cap_bp * v.total_units
        holders = [r for r in v.living() if r.status in ("active", "settled")]
        for r in holders:
            held = v.holdings.get(r.party)
            if not held or held[0] < 2:
                continue
            roll, units = self.rng.random(), held[0] // 2
            if roll < SHARE_SALE:
                buyer = self.rng.choice(holders)
                assert buyer.household is not None
                mine = v.holdings.get(buyer.party, [0, buyer.household.id])
                if buyer is r or (mine[0] + units) * 10_000 > cap:
                    continue
                intent = self.emit(
                    "shares.transferred",
                    {
                        "holder": r.party,
                        "to": buyer.party,
                        "units": units,
                        "price_fen": units * self.rng.randrange(60, 150) * 100,
                        "agreement": digest(r.party, buyer.party, "share-sale", self.day),
                    },
                )
                v.showcase.setdefault("share_transfer", intent.id)
                v.counts.share_transfers += 1
                v.holdings[buyer.party] = [mine[0] + units, mine[1]]
                held[0] -= units
            elif roll < SHARE_SALE + SHARE_PLEDGE and r.status == "active":
                pledge = f"ZY{v.code}{v.next('pledge'):05d}"
                intent = self.emit(
                    "shares.pledged",
                    {
                        "pledge": pledge,
                        "holder": r.party,
                        "units": units,
                        "pledgee": entity_credit_code(f"{v.place.township.name}农村商业银行", v.person_area),
                        "contract": digest(r.party, "pledge", self.day),
                    },
                )
                v.showcase.setdefault("share_pledge", intent.id)
                v.counts.share_pledges += 1
                v.pledges.append(pledge)

    def release_pledges(self) -> None:
        """The loans of the last round are repaid: every open pledge is released."""
        for pledge in self.v.pledges:
            self.emit("shares.pledge_released", {"pledge": pledge})
        self.v.pledges.clear()

    def dividend(self) -> None:
        v = self.v
        distributable = self.rng.randrange(20, 200) * 10_000_00
        intent = self.emit(
            "dividend.declared",
            {
                "dividend": f"FH{v.code}{self.day.year}",
                "distributable_fen": distributable,
                "amount_fen": distributable * self.rng.randrange(40, 71) // 100,
                "resolution": digest(v.id, "dividend", self.day),
            },
        )
        v.showcase.setdefault("dividend", intent.id)
        v.showcase.setdefault("dividend_id", f"FH{v.code}{self.day.year}")
        v.showcase.setdefault("village", v.id)

    def extend(self) -> None:
        """Second-round contracts extended thirty years (二轮延包)."""
        for hh in self.v.households:
            c = hh.contract
            if c is not None and c.term_end == CONTRACT_END:
                self.emit("land.contract_extended", {"contract": c.id, "term_end": EXTENDED_END.isoformat()})
                c.term_end = EXTENDED_END
