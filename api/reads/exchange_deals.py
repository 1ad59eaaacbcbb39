"""Comparable deals for valuation: certified transactions by right type, township and period
(the certificate's date in China Standard Time), each with its unit price, and a summary of
those prices per right type.

Unit prices are integer fen, rounded half up: land per 亩 per year
(``contracts.exchange.outcome.per_mu_year``), shares per unit, a homestead per m², a collective
asset's lease per deal. A summary's mean is the sum of its prices over their count, and the
median of an even count the mean of the two middle prices, each rounded half up.

A certified listing's row never changes again, so certified rows with a certificate below the
checkpoint's size are exactly the deals as of that checkpoint.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.reads.evidence import snapshot
from api.reads.exchange_monitoring import regions
from contracts.exchange.outcome import months_between, per_mu_year
from contracts.exchange.tables import Listing, ListingStep
from contracts.registry import CHINA_STANDARD_TIME
from ledger.entry import format_time, parse_time
from ledger.errors import Category, Rejection

RIGHT_TYPES = ("land_management", "shares", "homestead", "collective_asset", "land_quota")
PRICE_BASIS = {
    "land_management": "per_mu_year",
    "shares": "per_unit",
    "homestead": "per_m2",
    "collective_asset": "per_deal",
    "land_quota": "per_m2",
}


def half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up (both positive)."""
    return (2 * numerator + denominator) // (2 * denominator)


def unit_price(listing: Listing) -> int:
    """A certified deal's price per its right type's basis, in fen."""
    assert listing.value_fen is not None
    if listing.right_type == "land_management":
        price = per_mu_year(listing)
        assert price is not None
        return price
    if listing.right_type in ("shares", "homestead", "land_quota"):
        return half_up(listing.value_fen, listing.quantity)
    return listing.value_fen


def median(sorted_prices: list[int]) -> int:
    n = len(sorted_prices)
    middle = sorted_prices[n // 2]
    return middle if n % 2 else half_up(sorted_prices[n // 2 - 1] + middle, 2)


def summary(right_type: str, deals: list[dict[str, Any]]) -> dict[str, Any]:
    prices = sorted(d["unit_price_fen"] for d in deals)
    return {
        "right_type": right_type,
        "price_basis": PRICE_BASIS[right_type],
        "count": len(prices),
        "median_fen": median(prices),
        "mean_fen": half_up(sum(prices), len(prices)),
        "min_fen": prices[0],
        "max_fen": prices[-1],
        "total_value_fen": sum(d["value_fen"] for d in deals),
    }


def cst_midnight(d: date) -> str:
    """The instant a China Standard Time day begins, as the ledger writes times."""
    return format_time(datetime(d.year, d.month, d.day, tzinfo=UTC) - CHINA_STANDARD_TIME)


def deal(listing: Listing, certified_at: str) -> dict[str, Any]:
    land_or_homestead = listing.right_type in ("land_management", "homestead", "land_quota")
    term = (listing.term_start, listing.term_end)
    return {
        "listing": listing.id,
        "certificate_no": listing.certificate_no,
        "certificate_seq": listing.certificate_seq,
        "certified_at": certified_at,
        "certified_on": (parse_time(certified_at) + CHINA_STANDARD_TIME).date(),
        "right_type": listing.right_type,
        "mode": listing.right.get("mode"),
        "township": listing.township_id,
        "village": listing.collective_id,
        "exchange": listing.exchange_id,
        "area_m2": listing.quantity if land_or_homestead else None,
        "units": listing.quantity if listing.right_type == "shares" else None,
        "term_start": term[0],
        "term_end": term[1],
        "term_months": months_between(term[0], term[1]) if term[0] and term[1] else None,
        "method": listing.method,
        "price_fen": listing.price_fen,
        "price_unit": listing.price_unit,
        "value_fen": listing.value_fen,
        "unit_price_fen": unit_price(listing),
        "price_basis": PRICE_BASIS[listing.right_type],
    }


async def comparable_deals(
    conn: AsyncConnection,
    session: AsyncSession,
    *,
    right_type: str | None,
    township: str | None,
    since: date | None,
    until: date | None,
    after: int,
    limit: int,
) -> dict[str, Any]:
    """``ComparableDeals``' fields: certified deals matching the filters (certified from
    ``since`` to ``until``, both days included), the page after certificate seq ``after``."""
    if since is not None and until is not None and since > until:
        raise Rejection(
            "deals.bad_period",
            f"the period runs from {since} to {until}: it ends before it starts",
            category=Category.MALFORMED,
        )
    snap = await snapshot(conn)
    certified_at = col(ListingStep.at)
    query = (
        select(Listing, certified_at)
        .join(
            ListingStep,
            (col(ListingStep.listing_id) == col(Listing.id))
            & (col(ListingStep.seq) == col(Listing.certificate_seq)),
        )
        .where(Listing.status == "certified", col(Listing.certificate_seq) < snap.size)
        .order_by(col(Listing.certificate_seq))
    )
    if right_type is not None:
        query = query.where(Listing.right_type == right_type)
    if township is not None:
        query = query.where(Listing.township_id == township)
    if since is not None:
        query = query.where(certified_at >= cst_midnight(since))
    if until is not None:
        query = query.where(certified_at < cst_midnight(until + timedelta(days=1)))
    deals = [deal(listing, at) for listing, at in (await session.exec(query)).all()]
    page = [d for d in deals if d["certificate_seq"] > after][: limit + 1]
    more = len(page) > limit
    page = page[:limit]
    orgs = await regions(conn, [o for d in page for o in (d["township"], d["village"])], snap.size - 1)
    for d in page:
        d["township"], d["village"] = orgs[d["township"]], orgs[d["village"]]
    return {
        "as_of": snap.size - 1,
        "checkpoint": snap.json(),
        "items": page,
        "next": page[-1]["certificate_seq"] if more else None,
        "summaries": [
            summary(t, found) for t in RIGHT_TYPES if (found := [d for d in deals if d["right_type"] == t])
        ],
    }
