"""Pages of a console list: at most ``PAGE_ROWS`` rows, and links to the pages before and after.

A list reads one row more than it shows (``LIMIT PAGE_ROWS + 1 OFFSET ...``) to know whether a
next page exists, so a village of thousands of households still answers a page of 50 rows (a
page under 100 KB). The page number is read from its own query parameter (a page may hold
several lists, each paged by its own: ``land``, ``homesteads``...); anything that is not a
number from 1 to ``MAX_PAGE`` reads as the first page, never an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from litestar import Request

PAGE_ROWS = 50
MAX_PAGE = 10_000
T = TypeVar("T")


def page_number(request: Request[Any, Any, Any], param: str = "page") -> int:
    raw = request.query_params.get(param) or ""
    if raw.isascii() and raw.isdigit() and len(raw) <= 5 and 1 <= int(raw) <= MAX_PAGE:
        return int(raw)
    return 1


def offset(number: int) -> int:
    return (number - 1) * PAGE_ROWS


@dataclass(frozen=True)
class Pager:
    """One page of a list: its number, whether a next page exists, and the links to both
    neighbours (the page's other query parameters kept)."""

    number: int
    more: bool
    previous_href: str | None
    next_href: str | None


def paged(request: Request[Any, Any, Any], rows: Sequence[T], param: str = "page") -> tuple[list[T], Pager]:
    """The rows to show (read with ``PAGE_ROWS + 1`` as the limit) and the pager of the page."""
    number = page_number(request, param)
    more = len(rows) > PAGE_ROWS
    query = {k: v for k, v in request.query_params.items() if k not in (param, "done")}

    def href(n: int) -> str:
        anchor = "" if param == "page" else f"#{param}"
        return f"{request.url.path}?{urlencode({**query, param: n})}{anchor}"

    return list(rows[:PAGE_ROWS]), Pager(
        number, more, href(number - 1) if number > 1 else None, href(number + 1) if more else None
    )
