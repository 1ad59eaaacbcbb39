"""What the public board pages read and how they say it: the filters a visitor may give (checked
here, so that a hostile query is a 400 page, never a 500), the choices the filter form offers,
countdowns and amounts as a reader sees them, and the headers of a public page.

Everything shown comes from ``api.reads.exchange_board``: no personal data (bidders are
``竞买人 N``, the holder only through the right listed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.console.public_routes import NO_STORE
from api.console.render import choices
from api.console.vouchers_pages_reads import yuan
from contracts.exchange.tables import Listing
from contracts.orgs import Org

PAGE_SIZE = 20  # listings a page (the API's own pages go to 1000; a village office's link is slow)
ID_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")  # as api.http.routes.paging.ID_PATTERN
SEQ_TEXT = re.compile(r"-1|0|[1-9][0-9]{0,17}")
MAX_SEQ = 2**63 - 1
STATUSES = ("open", "awarded", "contracted", "paid", "certified", "failed", "withdrawn")
RIGHT_TYPES = ("land_management", "shares", "homestead", "collective_asset", "land_quota")
FILTERS = ("exchange", "township", "right_type", "status")
CSP = NO_STORE["Content-Security-Policy"]


def public_headers(request: Any, max_age: int) -> dict[str, str]:
    """A public page's headers: kept by caches ``max_age`` seconds (it holds no personal data,
    and changes with the ledger), one copy per reader's language and type size (``Vary:
    Cookie``); never kept when this answer sets a reader's choice cookie."""
    cache = "no-store" if choices(request).cookies else f"public, max-age={max_age}"
    return {"Cache-Control": cache, "Vary": "Cookie", "Content-Security-Policy": CSP}


@dataclass(frozen=True)
class BoardQuery:
    """The board's filters and page, as a visitor gave them; ``bad`` names the first one that is
    not well formed (the page then says so, and lists nothing)."""

    exchange: str | None = None
    township: str | None = None
    right_type: str | None = None
    status: str | None = None
    after: str | None = None
    bad: str | None = None

    @classmethod
    def of(cls, query: Mapping[str, str]) -> BoardQuery:
        given = {k: (query.get(k) or "").strip() or None for k in (*FILTERS, "after")}
        for name in ("exchange", "township", "after"):
            value = given[name]
            if value is not None and not ID_TEXT.fullmatch(value):
                return cls(bad=name)
        if given["right_type"] not in (None, *RIGHT_TYPES):
            return cls(bad="right_type")
        if given["status"] not in (None, *STATUSES):
            return cls(bad="status")
        return cls(**given)

    def filters(self) -> dict[str, str]:
        """The filters given, for the next page's link."""
        return {k: v for k in FILTERS if (v := getattr(self, k)) is not None}


def seq_after(text: str | None) -> int | None:
    """The results' ``after`` (a seq, or -1 for the first page); None when not well formed."""
    if text is None or text == "":
        return -1
    if not SEQ_TEXT.fullmatch(text) or int(text) > MAX_SEQ:
        return None
    return int(text)


async def filter_choices(session: AsyncSession) -> dict[str, list[str]]:
    """The exchanges and townships that have listings, for the filter form."""
    exchanges = (
        await session.exec(select(Listing.exchange_id).distinct().order_by(col(Listing.exchange_id)))
    ).all()
    townships = (
        await session.exec(select(Listing.township_id).distinct().order_by(col(Listing.township_id)))
    ).all()
    return {"exchange": list(exchanges), "township": list(townships)}


def countdown(seconds: int | None) -> dict[str, int] | None:
    """Seconds left as days, hours and minutes (rounded down); None when there is no clock."""
    if seconds is None:
        return None
    left = max(seconds, 0)
    return {"days": left // 86400, "hours": left % 86400 // 3600, "minutes": left % 3600 // 60}


UNITS = {"zh": (" 元/亩·年", " 元"), "en": (" yuan/mu/year", " yuan")}


def money(fen: int | None, unit: str, lang: str = "zh") -> str:
    """An amount in yuan with the listing's unit (``元/亩·年`` or ``元``) in ``lang``."""
    per_mu_year, total = UNITS.get(lang, UNITS["zh"])
    return yuan(fen) + (per_mu_year if unit == "per_mu_year" else total)


async def certificate_of(session: AsyncSession, listing_id: str) -> tuple[str, int] | None:
    """The transaction certificate's number and the seq that issued it, once there is one."""
    row = (
        await session.exec(
            select(Listing.certificate_no, Listing.certificate_seq).where(Listing.id == listing_id)
        )
    ).first()
    if row is None or row[0] is None or row[1] is None:
        return None
    return str(row[0]), int(row[1])


async def org_names(session: AsyncSession, ids: set[str]) -> dict[str, str]:
    """The registered names of the organisations ``ids`` (villages, townships, exchanges: public,
    as the ledger registered them)."""
    if not ids:
        return {}
    rows = (await session.exec(select(Org.id, Org.name).where(col(Org.id).in_(sorted(ids))))).all()
    return {str(i): str(n) for i, n in rows}


def places(items: list[dict[str, Any]]) -> set[str]:
    """The organisations a page of listings names."""
    return {x[k] for x in items for k in ("exchange", "township", "village")}
