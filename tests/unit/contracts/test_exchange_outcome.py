"""What a deal is worth (``contracts.exchange.outcome``), as pure functions: a term counts both
its first and its last day, as terms are written, so a price per 亩 per year is paid for every
month of it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from contracts.exchange.outcome import deal_value, months_between, per_mu_year
from contracts.exchange.tables import Listing


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 7, 1), date(2036, 6, 30), 120),  # a ten-year lease
        (date(2018, 1, 1), date(2047, 12, 31), 360),  # a thirty-year contract
        (date(2026, 4, 1), date(2035, 12, 31), 117),  # nine years and nine months
        (date(2026, 7, 15), date(2027, 7, 14), 12),
        (date(2026, 1, 31), date(2026, 2, 27), 1),  # under a month counts one
        (date(2026, 1, 31), date(2026, 3, 30), 2),
        (date(2026, 1, 31), date(2026, 3, 29), 1),  # a day short of two months: one whole month
        (date(2026, 7, 1), date(2036, 7, 1), 120),  # a day more than ten years: no 121st month
    ],
)
def test_a_terms_months_count_its_last_day(start: date, end: date, months: int) -> None:
    assert months_between(start, end) == months


def lease(price_unit: str, area_m2: int = 2201, **over: Any) -> Listing:
    """The fields of a ten-year land lease's listing that its value reads."""
    return Listing.model_construct(
        right_type="land_management",
        price_unit=price_unit,
        quantity=area_m2,
        term_start=date(2026, 7, 1),
        term_end=date(2036, 6, 30),
        **over,
    )


def test_a_price_per_mu_per_year_is_paid_for_every_year_of_the_term() -> None:
    """900 yuan per 亩 per year for 2,201 m² (3.3015 亩) over ten years: 29,713.50 yuan."""
    assert deal_value(lease("per_mu_year"), 90_000) == 90_000 * 33_015 // 1_000 == 2_971_350
    assert deal_value(lease("per_mu_year", area_m2=667), 90_000) == 900_450  # a whole 亩 is 666.67 m²
    assert deal_value(lease("total"), 2_971_350) == 2_971_350


def test_a_total_price_reads_back_per_mu_per_year() -> None:
    assert per_mu_year(lease("total", value_fen=2_971_350, price_fen=2_971_350)) == 90_000
