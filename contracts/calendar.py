"""The county's working-day calendar (``calendar.declared``): which days are public holidays and
which weekend days are working days (调休) in a year. Deadlines counted in working days (an
exchange announcement, a contract, a refund) are counted on it; a year the county has not
declared has Monday to Friday as its working days.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import msgspec
from sqlalchemy import BigInteger
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from contracts.errors import RuleViolation
from contracts.orgs import Org
from contracts.policy import county_of
from contracts.registry import Payload, RecordContext, Signers, rule
from contracts.state import Change, Put, State, make
from ledger.errors import Category

MAX_WORKING_DAYS = 400  # no deadline counts more working days than this (about 19 months)
Days = Annotated[list[date], msgspec.Meta(max_length=120)]


class WorkingCalendar(SQLModel, table=True):
    """A county's declared calendar for one year (dates as ISO strings)."""

    __tablename__ = "working_calendars"
    county_id: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    holidays: list[str] = Field(sa_type=JSONB)
    working_weekend_days: list[str] = Field(sa_type=JSONB)
    declared_seq: int = Field(sa_type=BigInteger)


class CalendarDeclared(Payload, frozen=True):
    year: Annotated[int, msgspec.Meta(ge=2000, le=2200)]
    holidays: Days
    working_weekend_days: Days


@rule(
    "calendar.declared",
    CalendarDeclared,
    prefetch=lambda p, rec: [(WorkingCalendar, (rec.actor, p.year))],
    signed_by=Signers(("county",), "the county, for itself"),
    version=3,
)
def declare_calendar(state: State, rec: RecordContext, p: CalendarDeclared) -> list[Change]:
    """The county declares a year's public holidays and the weekend days worked instead (调休);
    a later declaration of the same year replaces it."""
    actor = state.get(Org, rec.actor)
    if actor is None or actor.type != "county":
        raise RuleViolation(
            "calendar.not_a_county", "only a county declares its working days", category=Category.FORBIDDEN
        )
    for d in (*p.holidays, *p.working_weekend_days):
        if d.year != p.year:
            raise RuleViolation("calendar.wrong_year", f"{d} is not in {p.year}")
    if len(set(p.holidays)) != len(p.holidays) or len(set(p.working_weekend_days)) != len(
        p.working_weekend_days
    ):
        raise RuleViolation("calendar.duplicate_day", "a day is listed twice")
    weekdays = [d.isoformat() for d in p.working_weekend_days if d.weekday() < 5]
    if weekdays:
        raise RuleViolation(
            "calendar.not_a_weekend_day",
            f"{', '.join(weekdays)}: a working weekend day falls on a Saturday or Sunday",
        )
    if set(p.holidays) & set(p.working_weekend_days):
        raise RuleViolation("calendar.duplicate_day", "a day cannot be both a holiday and a working day")
    return [
        Put(
            make(
                WorkingCalendar,
                county_id=rec.actor,
                year=p.year,
                holidays=sorted(d.isoformat() for d in p.holidays),
                working_weekend_days=sorted(d.isoformat() for d in p.working_weekend_days),
                declared_seq=rec.seq,
            )
        )
    ]


class WorkingDays:
    """Working days of one county, read from its declared calendars."""

    def __init__(self, state: State, org_id: str) -> None:
        self.state = state
        self.county = county_of(state, org_id)
        self._years: dict[int, tuple[frozenset[str], frozenset[str]]] = {}

    def _year(self, year: int) -> tuple[frozenset[str], frozenset[str]]:
        found = self._years.get(year)
        if found is None:
            row = self.state.get(WorkingCalendar, self.county, year) if self.county else None
            found = (
                (frozenset(row.holidays), frozenset(row.working_weekend_days))
                if row
                else (frozenset(), frozenset())
            )
            self._years[year] = found
        return found

    def is_working_day(self, d: date) -> bool:
        holidays, worked = self._year(d.year)
        text = d.isoformat()
        if text in worked:
            return True
        return d.weekday() < 5 and text not in holidays

    def after(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself not counted); ``start``
        when ``n`` is 0."""
        if not 0 <= n <= MAX_WORKING_DAYS:
            raise RuleViolation("calendar.too_many_days", f"{n} working days is beyond {MAX_WORKING_DAYS}")
        d, left = start, n
        while left:
            d += timedelta(days=1)
            if self.is_working_day(d):
                left -= 1
        return d
