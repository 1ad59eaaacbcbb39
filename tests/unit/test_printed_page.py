"""The pieces of the printed pages that need no database: Beijing time, 亩, and the type size
that fits a page on one A4 sheet (checked in Chromium by tests/browser/test_print_a4.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.reads.print_fit import LARGEST_PT, SMALLEST_PT, print_size, printed_lines, text_em
from api.reads.printed_page import beijing_time, facts, grouped_grid, mu


def test_beijing_time_is_utc_plus_eight_to_the_minute() -> None:
    assert beijing_time("2026-03-01T08:00:00Z") == "2026-03-01 16:00 北京时间"
    assert beijing_time("2026-03-01T08:00:00.000000Z") == "2026-03-01 16:00 北京时间"
    assert beijing_time("2026-12-31T16:59:59.999999Z") == "2027-01-01 00:59 北京时间"
    assert beijing_time(datetime(2026, 6, 30, 20, 5, tzinfo=UTC)) == "2026-07-01 04:05 北京时间"


@pytest.mark.parametrize("wire", ["2026-03-01 08:00:00", "2026-03-01T08:00:00+08:00", "yesterday"])
def test_beijing_time_takes_only_the_wire_format(wire: str) -> None:
    with pytest.raises(ValueError, match="RFC 3339 UTC"):
        beijing_time(wire)


def test_mu_from_square_metres() -> None:
    assert (mu(667), mu(6670), mu(1_000_000)) == ("1.00", "10.00", "1,499.99")


def test_text_width_counts_cjk_as_one_em() -> None:
    assert text_em("股权证书") == 4.0 and text_em("GQ01") == pytest.approx(2.2)


def rows(n: int) -> str:
    items = [f"<td>{i}</td><td>耕地</td>" for i in range(n)]
    return grouped_grid(["地块编码", "地类"], [("承包合同 HT-1", items)], "<td colspan=2>合计</td>", across=1)


def test_a_short_page_prints_at_the_largest_size() -> None:
    assert print_size("<h1>股权证书</h1>" + facts([("证书编号", "GQ1")])) == f"{LARGEST_PT:.2f}pt"


def test_a_longer_page_prints_smaller_down_to_the_smallest_size() -> None:
    sizes = [float(print_size(rows(n)).removesuffix("pt")) for n in (10, 60, 80, 100, 400)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == LARGEST_PT
    assert sizes[1] < LARGEST_PT and sizes[-1] == SMALLEST_PT


def test_lines_count_rows_headings_and_wrapped_paragraphs() -> None:
    assert printed_lines(rows(20)) == pytest.approx(printed_lines(rows(10)) + 10 * 1.12)
    short, long = "<p class=note>一</p>", "<p class=note>" + "一" * 200 + "</p>"
    assert printed_lines(long) > printed_lines(short)
    assert printed_lines(long, size=6.0) < printed_lines(long, size=10.0)  # smaller type wraps less
    assert printed_lines("<p class=links>" + "一" * 200 + "</p>") == printed_lines("")  # not printed


def test_facts_go_two_to_a_row_or_one() -> None:
    three = [("甲", "1"), ("乙", "2"), ("丙", "3")]
    assert facts(three).count("<tr>") == 2 and facts(three, across=1).count("<tr>") == 3
