"""The county's working-day calendar as the seed declares it (``calendar.declared``): each year's
public holidays and the weekend days worked instead (调休), as the State Council's notices on the
holiday arrangements set them, and working days counted on the years declared so far, the way
``contracts/calendar.py`` counts them (a year not declared works Monday to Friday).

Every break is listed whole (``04-04..04-06``), weekend days included: a weekend day listed as a
holiday changes nothing. A year with no notice yet (2027 and later) is not declared.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

# year -> (holidays, weekend days worked): MM-DD days and MM-DD..MM-DD breaks.
NOTICES: dict[int, tuple[str, str]] = {
    2018: (
        "01-01 02-15..02-21 04-05..04-07 04-29..05-01 06-16..06-18 09-22..09-24 10-01..10-07 12-30..12-31",
        "02-11 02-24 04-08 04-28 09-29 09-30 12-29",
    ),
    2019: (
        "01-01 02-04..02-10 04-05..04-07 05-01..05-04 06-07..06-09 09-13..09-15 10-01..10-07",
        "02-02 02-03 04-28 05-05 09-29 10-12",
    ),
    # The Spring Festival break was extended to 2 February (no work on Saturday 1 February).
    2020: (
        "01-01 01-24..02-02 04-04..04-06 05-01..05-05 06-25..06-27 10-01..10-08",
        "01-19 04-26 05-09 06-28 09-27 10-10",
    ),
    2021: (
        "01-01..01-03 02-11..02-17 04-03..04-05 05-01..05-05 06-12..06-14 09-19..09-21 10-01..10-07",
        "02-07 02-20 04-25 05-08 09-18 09-26 10-09",
    ),
    2022: (
        "01-01..01-03 01-31..02-06 04-03..04-05 04-30..05-04 06-03..06-05 09-10..09-12 10-01..10-07 12-31",
        "01-29 01-30 04-02 04-24 05-07 10-08 10-09",
    ),
    2023: (
        "01-01..01-02 01-21..01-27 04-05 04-29..05-03 06-22..06-24 09-29..10-06",
        "01-28 01-29 04-23 05-06 06-25 10-07 10-08",
    ),
    2024: (
        "01-01 02-10..02-17 04-04..04-06 05-01..05-05 06-08..06-10 09-15..09-17 10-01..10-07",
        "02-04 02-18 04-07 04-28 05-11 09-14 09-29 10-12",
    ),
    2025: (
        "01-01 01-28..02-04 04-04..04-06 05-01..05-05 05-31..06-02 10-01..10-08",
        "01-26 02-08 04-27 09-28 10-11",
    ),
    2026: (
        "01-01..01-03 02-15..02-23 04-04..04-06 05-01..05-05 06-19..06-21 09-25..09-27 10-01..10-07",
        "01-04 02-14 02-28 05-09 09-20 10-10",
    ),
}


def days_of(year: int, spans: str) -> list[date]:
    """The dates of ``spans`` (``MM-DD`` or ``MM-DD..MM-DD``, space-separated) in ``year``."""
    out: list[date] = []
    for span in spans.split():
        first, _, last = span.partition("..")
        d = date.fromisoformat(f"{year}-{first}")
        end = date.fromisoformat(f"{year}-{last or first}")
        while d <= end:
            out.append(d)
            d += timedelta(days=1)
    return out


def notice(year: int) -> tuple[list[date], list[date]] | None:
    """The year's holidays and worked weekend days, if its notice is out."""
    spans = NOTICES.get(year)
    if spans is None:
        return None
    return days_of(year, spans[0]), days_of(year, spans[1])


class DeclaredCalendar:
    """The calendars the county has declared so far, and working days counted on them."""

    def __init__(self) -> None:
        self.years: dict[int, tuple[frozenset[date], frozenset[date]]] = {}

    def declare(self, year: int) -> dict[str, Any] | None:
        """The ``calendar.declared`` payload for ``year``, once; None if it is declared already
        or has no notice."""
        found = notice(year)
        if year in self.years or found is None:
            return None
        holidays, worked = found
        self.years[year] = (frozenset(holidays), frozenset(worked))
        return {
            "year": year,
            "holidays": [d.isoformat() for d in holidays],
            "working_weekend_days": [d.isoformat() for d in worked],
        }

    def is_working_day(self, d: date) -> bool:
        holidays, worked = self.years.get(d.year, (frozenset(), frozenset()))
        return d in worked or (d.weekday() < 5 and d not in holidays)

    def after(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself not counted)."""
        d = start
        while n:
            d += timedelta(days=1)
            n -= self.is_working_day(d)
        return d

    def on_or_after(self, d: date) -> date:
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def on_or_before(self, d: date) -> date:
        while not self.is_working_day(d):
            d -= timedelta(days=1)
        return d
