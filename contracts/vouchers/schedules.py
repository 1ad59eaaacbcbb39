"""``voucher.prices_published``: the county's construction-land quota prices per zone, in force
from a date; a voucher's face is computed with the schedule in force on the day it is issued."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from contracts.errors import RuleViolation
from contracts.homesteads import Zone
from contracts.land import ContractId
from contracts.registry import Payload, RecordContext, rule
from contracts.state import Change, Put, State, Where, make
from contracts.vouchers.common import COUNTY, PricePerM2, require_county
from contracts.vouchers.tables import PriceSchedule
from contracts.vouchers.terms import VOUCHER_VERSION


class PricesPublished(Payload, frozen=True):
    schedule: ContractId
    effective_from: date
    prices: Annotated[dict[Zone, PricePerM2], msgspec.Meta(min_length=1)]


def schedule_in_force(state: State, county_id: str, today: date) -> PriceSchedule | None:
    """The county's schedule with the latest ``effective_from`` on or before ``today``."""
    in_force = [s for s in state.find(PriceSchedule, county_id=county_id) if s.effective_from <= today]
    return max(in_force, key=lambda s: s.effective_from) if in_force else None


@rule(
    "voucher.prices_published",
    PricesPublished,
    prefetch=lambda p, rec: [(PriceSchedule, (p.schedule,)), Where(PriceSchedule, "county_id", rec.actor)],
    signed_by=COUNTY,
    version=VOUCHER_VERSION,
)
def publish_prices(state: State, rec: RecordContext, p: PricesPublished) -> list[Change]:
    """The county publishes a price schedule: the construction-land quota price of each zone, in
    fen per m², from its effective date (today or later) on."""
    county = require_county(state, rec)
    if state.get(PriceSchedule, p.schedule) is not None:
        raise RuleViolation("voucher.schedule_exists", f"price schedule {p.schedule} exists")
    if p.effective_from < rec.local_date:
        raise RuleViolation(
            "voucher.schedule_backdated",
            f"a schedule takes effect today ({rec.local_date}) or later, not on {p.effective_from}",
        )
    for other in state.find(PriceSchedule, county_id=county.id):
        if other.effective_from == p.effective_from:
            raise RuleViolation(
                "voucher.effective_date_taken",
                f"schedule {other.id} already takes effect on {p.effective_from}",
            )
    row = make(
        PriceSchedule,
        id=p.schedule,
        county_id=county.id,
        effective_from=p.effective_from,
        prices=dict(sorted(p.prices.items())),
        published_seq=rec.seq,
    )
    return [Put(row)]


RULES = (publish_prices,)
