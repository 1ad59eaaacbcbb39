"""The exchange's monitoring figures (信息管理系统) for a county, a township or an exchange
centre, as of the latest checkpoint, per exchange centre and per township: listings by status,
certified deals and their value, deposits and whether they balance, and refunds overdue.

Deposits balance when every fen received is accounted for: received = refunded + credited +
forfeited + outstanding. The two sides are read from different places, so the identity is a
check and not a sum restated: money in and out from the listing's steps (each
``exchange.deposit_received``, ``exchange.deposit_refunded`` and ``exchange.defaulted`` with its
amount), the credited and outstanding deposits from the bidders' standing as of the same seq.

A refund is overdue when a deposit of a bidder other than the winner is still held after the
listing's ``refunds_due`` (counted from the award, the failure or the withdrawal) by the
service's date in China Standard Time. A listing back at ``announced`` (its winner defaulted,
the runner-up to be awarded) or held for a dispute (its deadlines move when the hold is lifted)
has no refund due yet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select

from api.reads.evidence import snapshot
from api.reads.history import row_as_of, rows_as_of
from contracts.exchange.tables import Listing, ListingBidder, ListingStep
from contracts.orgs import Org
from ledger.errors import Category, Rejection

# The listing column that places a listing under each kind of organisation monitored.
SCOPE_COLUMN = {"county": "county_id", "township": "township_id", "exchange_center": "exchange_id"}
FLOWS = {
    "exchange.deposit_received": "received",
    "exchange.deposit_refunded": "refunded",
    "exchange.defaulted": "forfeited",
}
MAX_OVERDUE_LISTED = 1000


def region(org: Org) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "type": org.type, "area_code": org.area_code}


async def regions(conn: AsyncConnection, ids: Iterable[str], as_of: int) -> dict[str, dict[str, Any]]:
    """The organisations ``ids`` as of seq ``as_of``, as ``Region``s."""
    wanted = sorted(set(ids))
    found = {v.row.id: region(v.row) for v in await rows_as_of(conn, Org, as_of, where={"id": wanted})}
    # Every listed id is an organisation's; an unknown one is shown by its id rather than failing.
    return {i: found.get(i) or {"id": i, "name": i, "type": "unknown", "area_code": None} for i in wanted}


@dataclass
class Amount:
    count: int = 0
    fen: int = 0

    def add(self, fen: int, count: int = 1) -> None:
        self.count += count
        self.fen += fen


@dataclass
class Figures:
    listings_by_status: Counter[str] = field(default_factory=Counter)
    listings_held: int = 0
    deals_certified: Amount = field(default_factory=Amount)
    received: Amount = field(default_factory=Amount)
    refunded: Amount = field(default_factory=Amount)
    credited: Amount = field(default_factory=Amount)
    forfeited: Amount = field(default_factory=Amount)
    outstanding: Amount = field(default_factory=Amount)
    refunds_overdue: Amount = field(default_factory=Amount)

    def add(self, other: Figures) -> None:
        self.listings_by_status.update(other.listings_by_status)
        self.listings_held += other.listings_held
        for name in ("deals_certified", "received", "refunded", "credited", "forfeited", "outstanding"):
            mine, theirs = getattr(self, name), getattr(other, name)
            mine.add(theirs.fen, theirs.count)
        self.refunds_overdue.add(other.refunds_overdue.fen, other.refunds_overdue.count)

    def json(self) -> dict[str, Any]:
        settled = (self.refunded, self.credited, self.forfeited, self.outstanding)
        difference = self.received.fen - sum(a.fen for a in settled)
        balanced = difference == 0 and self.received.count == sum(a.count for a in settled)

        def amount(a: Amount) -> dict[str, int]:
            return {"count": a.count, "fen": a.fen}

        return {
            "listings_by_status": dict(sorted(self.listings_by_status.items())),
            "listings_held": self.listings_held,
            "deals_certified": amount(self.deals_certified),
            "deposits": {
                "received": amount(self.received),
                "refunded": amount(self.refunded),
                "credited": amount(self.credited),
                "forfeited": amount(self.forfeited),
                "outstanding": amount(self.outstanding),
                "balanced": balanced,
                "difference_fen": difference,
            },
            "refunds_overdue": amount(self.refunds_overdue),
        }


def refund_due(listing: Listing) -> date | None:
    """The date by which the listing's losing deposits are refunded, if one is running."""
    if listing.status == "announced" or listing.held_at is not None:
        return None
    return listing.refunds_due


def listing_figures(
    listing: Listing,
    bidders: Sequence[ListingBidder],
    flows: dict[str, tuple[int, int]],
    today: date,
    overdue: list[dict[str, Any]],
) -> Figures:
    """One listing's figures; its overdue refunds are appended to ``overdue``."""
    f = Figures()
    f.listings_by_status[listing.status] += 1
    f.listings_held += listing.held_at is not None
    if listing.status == "certified" and listing.value_fen is not None:
        f.deals_certified.add(listing.value_fen)
    for kind, name in FLOWS.items():
        count, fen = flows.get(kind, (0, 0))
        getattr(f, name).add(fen, count)
    due = refund_due(listing)
    for b in bidders:
        if b.deposit == "credited":
            f.credited.add(b.deposit_fen)
        elif b.deposit == "held":
            f.outstanding.add(b.deposit_fen)
            if due is not None and b.number != listing.winner and today > due:
                f.refunds_overdue.add(b.deposit_fen)
                overdue.append(
                    {
                        "listing": listing.id,
                        "exchange": listing.exchange_id,
                        "township": listing.township_id,
                        "bidder": b.number,
                        "amount_fen": b.deposit_fen,
                        "refunds_due": due,
                        "days_overdue": (today - due).days,
                    }
                )
    return f


async def step_flows(
    conn: AsyncConnection, column: str, org_id: str, as_of: int
) -> dict[str, dict[str, tuple[int, int]]]:
    """Per listing under ``org_id``, per deposit flow kind: how many steps, how many fen."""
    query = (
        select(
            ListingStep.listing_id,
            ListingStep.kind,
            func.count(),
            func.coalesce(func.sum(ListingStep.amount_fen), 0),
        )
        .join(Listing, col(Listing.id) == col(ListingStep.listing_id))
        .where(
            getattr(Listing, column) == org_id,
            col(ListingStep.seq) <= as_of,
            col(ListingStep.kind).in_(list(FLOWS)),
        )
        .group_by(col(ListingStep.listing_id), col(ListingStep.kind))
    )
    flows: dict[str, dict[str, tuple[int, int]]] = {}
    for listing_id, kind, count, fen in (await conn.execute(query)).all():
        flows.setdefault(listing_id, {})[kind] = (int(count), int(fen or 0))
    return flows


async def scope_of(conn: AsyncConnection, org_id: str, as_of: int) -> tuple[Org, str]:
    found = await row_as_of(conn, Org, (org_id,), as_of)
    if found is None:
        raise Rejection(
            "org.not_found", f"no organisation {org_id} as of seq {as_of}", category=Category.NOT_FOUND
        )
    column = SCOPE_COLUMN.get(found.row.type)
    if column is None:
        raise Rejection(
            "monitoring.not_an_exchange_scope",
            f"{org_id} is a {found.row.type}; the exchange is monitored for a county, a township "
            "or an exchange centre",
            category=Category.INVALID,
        )
    return found.row, column


async def exchange_monitoring(conn: AsyncConnection, org_id: str, today: date) -> dict[str, Any]:
    """``ExchangeMonitoring``'s fields for ``org_id``, with refunds overdue by ``today``."""
    snap = await snapshot(conn)
    as_of = snap.size - 1
    org, column = await scope_of(conn, org_id, as_of)
    listings = [v.row for v in await rows_as_of(conn, Listing, as_of, where={column: org_id})]
    bidders: dict[str, list[ListingBidder]] = {}
    if listings:
        where = {"listing_id": [x.id for x in listings]}
        for v in await rows_as_of(conn, ListingBidder, as_of, where=where):
            bidders.setdefault(v.row.listing_id, []).append(v.row)
    flows = await step_flows(conn, column, org_id, as_of)
    total, by_exchange, by_township = Figures(), dict[str, Figures](), dict[str, Figures]()
    overdue: list[dict[str, Any]] = []
    for x in listings:
        f = listing_figures(x, bidders.get(x.id, []), flows.get(x.id, {}), today, overdue)
        total.add(f)
        by_exchange.setdefault(x.exchange_id, Figures()).add(f)
        by_township.setdefault(x.township_id, Figures()).add(f)
    orgs = await regions(conn, [*by_exchange, *by_township], as_of)
    overdue.sort(key=lambda o: (o["refunds_due"], o["listing"], o["bidder"]))
    return {
        "org": region(org),
        "as_of": as_of,
        "today": today,
        "checkpoint": snap.json(),
        "figures": total.json(),
        "exchanges": [{"org": orgs[i], "figures": f.json()} for i, f in sorted(by_exchange.items())],
        "townships": [{"org": orgs[i], "figures": f.json()} for i, f in sorted(by_township.items())],
        "overdue": overdue[:MAX_OVERDUE_LISTED],
        "overdue_more": len(overdue) > MAX_OVERDUE_LISTED,
    }
