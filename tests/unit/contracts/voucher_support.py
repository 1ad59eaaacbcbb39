"""House vouchers in the in-memory harness: a county with its housing authority, a developer pool
with projects, a village whose households withdrew their homesteads (for a voucher, for cash, or
not at all), a price schedule, and payload builders for every voucher kind.

The clock is moved by calendar day (``on_day``): every record of a day is stamped at or after
10:00 China time, so ``rec.local_date`` is the day named."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tests.registry_support import hexdigest
from tests.unit.contracts.harness import COUNTY, COUNTY_CODE, Harness

CHINA_STANDARD_TIME = timedelta(hours=8)
OUTSIDE_CODE = (
    "371002"  # 环翠区, next to the county: a city-wide pool's project there takes none of its vouchers
)
ZONES = ("suburb", "plain", "plain_saline", "hilly_flat", "hilly_slope")
PRICES = {
    "suburb": 96_000,
    "plain": 80_000,
    "plain_saline": 61_000,
    "hilly_flat": 57_300,
    "hilly_slope": 43_100,
}


def local_date(recorded_at: str) -> date:
    """The China date of a record's ``recorded_at`` (what the rules call today)."""
    at = datetime.fromisoformat(recorded_at.replace("Z", "+00:00"))
    return (at + CHINA_STANDARD_TIME).date()


def on_day(h: Harness, day: date, hour: int = 10) -> None:
    """Move the clock to ``hour`` o'clock China time on ``day``, unless it is already past it."""
    at = datetime.combine(day, time(hour), tzinfo=UTC) - CHINA_STANDARD_TIME
    h.clock.set(max(h.clock(), h.last_recorded_at, at))


@dataclass(frozen=True)
class Withdrawn:
    """A household of the village and the homestead it gave up (or still holds)."""

    household: str
    people: tuple[str, ...]
    homestead: str
    area_m2: int
    zone: str
    compensation: str | None  # voucher | cash | None (held)


@dataclass
class VoucherCounty:
    h: Harness
    authority: str = ""
    developers: list[str] = field(default_factory=list)  # both admitted to the pool
    projects: dict[str, tuple[str, bool]] = field(default_factory=dict)  # id -> developer, in the county
    village: str = ""
    households: list[Withdrawn] = field(default_factory=list)
    outsiders: list[str] = field(default_factory=list)  # registered parties of no household here
    schedules: dict[str, tuple[date, dict[str, int]]] = field(default_factory=dict)

    @classmethod
    def build(cls, h: Harness) -> VoucherCounty:
        """Two developers in the pool, each with a project in the county, the first also with one
        outside it; households that withdrew their homestead for a voucher (three members, plain;
        two members, hilly flat), one that took cash, one that still holds its homestead; three
        outsiders; the schedule ``S-1`` in force from the day it is published."""
        c = cls(h)
        c.authority = h.housing_authority()
        c.developers = [h.developer(), h.developer()]
        for developer in c.developers:
            h.submit(COUNTY, "voucher.developer_admitted", {"developer": developer})
        c.village = h.collective()
        village_code = h.codes[c.village]
        c.project("P-A", c.developers[0], village_code)
        c.project("P-B", c.developers[1], COUNTY_CODE)
        c.project("P-X", c.developers[0], OUTSIDE_CODE)
        for size, area, zone, compensation in (
            (3, 150, "plain", "voucher"),
            (2, 120, "hilly_flat", "voucher"),
            (2, 160, "suburb", "cash"),
            (1, 100, "plain", None),
        ):
            household, people = h.members(c.village, size)
            _, homestead = h.homestead(c.village, household, area=area, zone=zone)
            if compensation is not None:
                withdrawal = {
                    "homestead": homestead,
                    "compensation": compensation,
                    "compensation_fen": area * PRICES[zone],
                    "agreement": hexdigest(f"withdrawal {homestead}"),
                }
                h.submit(c.village, "homestead.withdrawn", withdrawal)
            c.households.append(Withdrawn(household, tuple(people), homestead, area, zone, compensation))
        c.outsiders = [h.person(c.village) for _ in range(3)]
        c.publish("S-1", h.today(), PRICES)
        return c

    def project(self, project: str, developer: str, area_code: str) -> None:
        payload = {
            "project": project,
            "developer": developer,
            "presale_permit": f"WD-{project}-2026",
            "area_code": area_code,
        }
        self.h.submit(COUNTY, "voucher.project_registered", payload)
        self.projects[project] = (developer, area_code.startswith(COUNTY_CODE))

    def publish(self, schedule: str, effective_from: date, prices: dict[str, int]) -> None:
        self.h.submit(
            COUNTY, "voucher.prices_published", self.schedule_payload(schedule, effective_from, prices)
        )
        self.schedules[schedule] = (effective_from, dict(prices))

    # Payloads

    @staticmethod
    def schedule_payload(schedule: str, effective_from: date, prices: dict[str, int]) -> dict[str, Any]:
        return {"schedule": schedule, "effective_from": effective_from.isoformat(), "prices": dict(prices)}

    @staticmethod
    def issue_payload(
        voucher: str, w: Withdrawn, holders: list[str], schedule: str, appraisal_fen: int, face_fen: int
    ) -> dict[str, Any]:
        return {
            "voucher": voucher,
            "homestead": w.homestead,
            "holders": holders,
            "schedule": schedule,
            "appraisal": hexdigest(f"appraisal {w.homestead}"),
            "appraisal_fen": appraisal_fen,
            "face_fen": face_fen,
        }

    @staticmethod
    def cash_payload(w: Withdrawn, schedule: str, appraisal_fen: int, amount_fen: int) -> dict[str, Any]:
        return {
            "homestead": w.homestead,
            "schedule": schedule,
            "appraisal": hexdigest(f"appraisal {w.homestead}"),
            "appraisal_fen": appraisal_fen,
            "amount_fen": amount_fen,
            "payment": hexdigest(f"cash {w.homestead}"),
        }

    @staticmethod
    def redeem_payload(
        redemption: str,
        voucher: str,
        holder: str,
        project: str,
        purchase: str,
        price_fen: int,
        amount_fen: int,
    ) -> dict[str, Any]:
        return {
            "redemption": redemption,
            "voucher": voucher,
            "holder": holder,
            "project": project,
            "purchase_contract": hexdigest(f"purchase {purchase}"),
            "unit": f"3-{len(purchase) % 9 + 1}-0{len(redemption) % 9 + 1}",
            "price_fen": price_fen,
            "amount_fen": amount_fen,
        }

    @staticmethod
    def settle_payload(redemption: str, stage: str, amount_fen: int) -> dict[str, Any]:
        return {
            "redemption": redemption,
            "stage": stage,
            "amount_fen": amount_fen,
            "payment": hexdigest(f"settlement {redemption} {stage}"),
        }

    @staticmethod
    def transfer_payload(
        voucher: str, floor_area_m2: int, parts: list[tuple[str, list[str], int]]
    ) -> dict[str, Any]:
        return {
            "voucher": voucher,
            "consent": hexdigest(f"consent {voucher}"),
            "housing_record": hexdigest(f"housing {voucher}"),
            "household_floor_area_m2": floor_area_m2,
            "parts": [
                {"voucher": v, "holders": holders, "amount_fen": amount} for v, holders, amount in parts
            ],
        }

    @staticmethod
    def expire_payload(voucher: str, cash_fen: int) -> dict[str, Any]:
        return {"voucher": voucher, "cash_fen": cash_fen}

    @staticmethod
    def cash_out_payload(voucher: str, amount_fen: int) -> dict[str, Any]:
        return {"voucher": voucher, "amount_fen": amount_fen, "payment": hexdigest(f"cash-out {voucher}")}
