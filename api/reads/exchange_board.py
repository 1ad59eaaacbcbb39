"""The exchange's announcement board (挂牌公告), a listing with its full history, and the results
(成交公示): read models over ``exchange_listings`` and ``exchange_steps``, public, with no
personal data.

A bidder is shown only as ``竞买人 N``; the holder only through the right listed. The high bid's
time and seq are those of the step that made it (a bid, an opened quote or a priority match
by the high bidder at the high amount), not of the listing's last amount event. Countdowns are
by the service's clock (``now``), the one the rules read; a held listing's clock is stopped,
so it has none.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.reads.evidence import prove, snapshot
from api.reads.history import row_as_of
from contracts.exchange.tables import Listing, ListingStep
from ledger.entry import parse_time
from ledger.errors import Category, Rejection

CHINA_STANDARD_TIME = timedelta(hours=8)
AWARDED = ("awarded", "contracted", "paid", "certified")  # a result stands
UNSOLD = ("failed", "withdrawn")
# The steps that set an amount a bidder stands on: what "the high bid" was made by.
AMOUNT_KINDS = ("exchange.bid", "exchange.quote_opened", "exchange.priority_matched")


def bidder_label(number: int) -> str:
    """How the public sees a bidder: 竞买人 N."""
    return f"竞买人 {number}"


def area_mu(area_m2: int) -> str:
    """An area in 亩 (m² × 15 / 10,000, the unit deal values use), rounded half up to two
    places, as a decimal string."""
    hundredths = (area_m2 * 15 * 2 + 100) // 200
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def right_terms(listing: Listing) -> dict[str, Any]:
    """The right's public terms: never the holder."""
    r, kind = listing.right, listing.right_type
    if kind == "land_management":
        return {
            "type": kind,
            "contract": r["contract"],
            "parcels": list(r["parcels"]),
            "area_m2": listing.quantity,
            "area_mu": area_mu(listing.quantity),
            "mode": r["mode"],
            "term_start": listing.term_start,
            "term_end": listing.term_end,
        }
    if kind == "shares":
        return {"type": kind, "collective": r["collective"], "units": listing.quantity}
    if kind == "land_quota":
        return {
            "type": kind,
            "quota": r["quota"],
            "area_m2": listing.quantity,
            "area_mu": area_mu(listing.quantity),
        }
    if kind == "homestead":
        return {
            "type": kind,
            "homestead": r["homestead"],
            "area_m2": listing.quantity,
            "area_mu": area_mu(listing.quantity),
        }
    return {
        "type": kind,
        "collective": r["collective"],
        "asset": r["asset"],
        "category": r["category"],
        "term_start": listing.term_start,
        "term_end": listing.term_end,
    }


def phase(listing: Listing, now: datetime) -> str | None:
    """Where an announced listing stands by the clock; None once it is no longer announced."""
    if listing.status != "announced":
        return None
    if listing.held_at is not None:
        return "held"
    if now < parse_time(listing.opens_at):
        return "announcement"
    return "bidding" if now < parse_time(listing.closes_at) else "closed"


def closes_in_seconds(listing: Listing, now: datetime) -> int | None:
    stage = phase(listing, now)
    if stage in ("announcement", "bidding"):
        return int((parse_time(listing.closes_at) - now).total_seconds())
    return 0 if stage == "closed" else None


def result(listing: Listing) -> dict[str, Any] | None:
    if listing.status not in AWARDED or listing.winner is None:
        return None
    return {
        "number": listing.winner,
        "winner": bidder_label(listing.winner),
        "price_fen": listing.price_fen,
        "value_fen": listing.value_fen,
        "awarded_on": listing.awarded_on,
    }


def high_step(listing: Listing, steps: list[ListingStep]) -> ListingStep | None:
    """The latest of ``steps`` that put the high bidder on the high amount."""
    made = [
        s
        for s in steps
        if s.kind in AMOUNT_KINDS and s.bidder == listing.high_bidder and s.amount_fen == listing.high_fen
    ]
    return max(made, key=lambda s: s.seq, default=None)


def summary(listing: Listing, now: datetime, high: ListingStep | None) -> dict[str, Any]:
    """A listing on the board (``api.http.wire.exchange.ListingSummary``)."""
    q = listing.qualifications
    return {
        "id": listing.id,
        "exchange": listing.exchange_id,
        "township": listing.township_id,
        "village": listing.collective_id,
        "right_type": listing.right_type,
        "right": right_terms(listing),
        "qualifications": {
            "members_only": bool(q.get("members_only")),
            "agricultural_capacity": bool(q.get("agricultural_capacity")),
            "entity_types": list(q.get("entity_types") or []),
        },
        "reserve_fen": listing.reserve_fen,
        "price_unit": listing.price_unit,
        "increment_fen": listing.increment_fen,
        "deposit_fen": listing.deposit_fen,
        "method": listing.method,
        "priority_model": listing.priority_model,
        "listed_seq": listing.listed_seq,
        "listed_on": listing.listed_on,
        "announcement_ends": listing.announce_ends,
        "bidding_opens_at": listing.opens_at,
        "bidding_closes_at": listing.closes_at,
        "status": listing.status,
        "phase": phase(listing, now),
        "held": listing.held_at is not None,
        "round": listing.round,
        "relisting_of": listing.relisting_of,
        "relisted_as": listing.relisted_as,
        "bidders": listing.bidders,
        "high_bid": None
        if listing.high_bidder is None or listing.high_fen is None
        else {
            "number": listing.high_bidder,
            "bidder": bidder_label(listing.high_bidder),
            "amount_fen": listing.high_fen,
            "seq": high.seq if high else None,
            "at": high.at if high else listing.high_at,
        },
        "closes_in_seconds": closes_in_seconds(listing, now),
        "result": result(listing),
    }


async def high_steps(session: AsyncSession, listings: list[Listing]) -> dict[str, ListingStep]:
    """For each listing with a high bid, the latest step by its high bidder at the high amount
    (one query for a page: PostgreSQL's DISTINCT ON, newest first)."""
    ids = [x.id for x in listings if x.high_bidder is not None]
    if not ids:
        return {}
    query = (
        select(ListingStep)
        .join(Listing, col(Listing.id) == col(ListingStep.listing_id))
        .where(col(ListingStep.listing_id).in_(ids))
        .where(col(ListingStep.kind).in_(AMOUNT_KINDS))
        .where(col(ListingStep.bidder) == col(Listing.high_bidder))
        .where(col(ListingStep.amount_fen) == col(Listing.high_fen))
        .ext(distinct_on(col(ListingStep.listing_id)))
        .order_by(col(ListingStep.listing_id), col(ListingStep.seq).desc())
    )
    return {s.listing_id: s for s in (await session.exec(query)).all()}


async def board(
    session: AsyncSession,
    now: datetime,
    *,
    status: str | None,
    exchange: str | None,
    township: str | None,
    right_type: str | None,
    after: str | None,
    limit: int,
) -> dict[str, Any]:
    """A page of the board in listing id order; ``status`` "open" is "announced"."""
    query = select(Listing)
    for column, value in (
        (Listing.status, "announced" if status == "open" else status),
        (Listing.exchange_id, exchange),
        (Listing.township_id, township),
        (Listing.right_type, right_type),
    ):
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(col(Listing.id) > after)
    rows = list((await session.exec(query.order_by(col(Listing.id)).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    highs = await high_steps(session, rows)
    return {
        "items": [summary(x, now, highs.get(x.id)) for x in rows],
        "next": rows[-1].id if more else None,
    }


async def listing_detail(
    conn: AsyncConnection, session: AsyncSession, listing_id: str, now: datetime
) -> dict[str, Any]:
    """The listing as of the latest checkpoint's last record, and every step of it up to there,
    each with its record's leaf hash and inclusion proof in that checkpoint's tree."""
    snap = await snapshot(conn)
    version = await row_as_of(conn, Listing, (listing_id,), snap.size - 1)
    if version is None:
        raise Rejection("exchange.listing_not_found", f"no listing {listing_id}", category=Category.NOT_FOUND)
    listing = version.row
    steps = list(
        (
            await session.exec(
                select(ListingStep)
                .where(ListingStep.listing_id == listing_id)
                .where(col(ListingStep.seq) < snap.size)
                .order_by(col(ListingStep.seq))
            )
        ).all()
    )
    proven = await prove(conn, [s.seq for s in steps], snap)
    return {
        **summary(listing, now, high_step(listing, steps)),
        "as_of": snap.size - 1,
        "checkpoint": snap.json(),
        "steps": [
            {
                "seq": s.seq,
                "kind": s.kind,
                "at": s.at,
                "number": s.bidder,
                "bidder": None if s.bidder is None else bidder_label(s.bidder),
                "amount_fen": s.amount_fen,
                "leaf_hash": proven[s.seq].record.leaf_hash.hex(),
                "inclusion_proof": [h.hex() for h in proven[s.seq].proof],
            }
            for s in steps
        ],
    }


async def results(session: AsyncSession, after: int, limit: int) -> dict[str, Any]:
    """Outcomes in the order they were recorded, after the outcome seq ``after``: awards
    standing (the listing awarded or further on; the award's seq) and listings that failed or
    were withdrawn (the seq that ended them)."""
    awards = (
        select(ListingStep.listing_id, func.max(ListingStep.seq).label("seq"))
        .where(ListingStep.kind == "exchange.awarded")
        .group_by(col(ListingStep.listing_id))
        .subquery()
    )
    decided = case((col(Listing.status).in_(UNSOLD), col(Listing.ended_seq)), else_=awards.c.seq)
    query = (
        select(Listing, decided.label("decided"))
        .outerjoin(awards, awards.c.listing_id == col(Listing.id))
        .where(col(Listing.status).in_((*AWARDED, *UNSOLD)))
        .where(decided > after)
        .order_by(decided)
        .limit(limit + 1)
    )
    rows = list((await session.exec(query)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    times = {
        s.seq: s.at
        for s in (
            await session.exec(select(ListingStep).where(col(ListingStep.seq).in_([seq for _, seq in rows])))
        ).all()
    }
    return {
        "items": [_result_item(listing, seq, times[seq]) for listing, seq in rows],
        "next": rows[-1][1] if more else None,
    }


def _result_item(listing: Listing, seq: int, at: str) -> dict[str, Any]:
    return {
        "id": listing.id,
        "exchange": listing.exchange_id,
        "township": listing.township_id,
        "village": listing.collective_id,
        "right_type": listing.right_type,
        "right": right_terms(listing),
        "reserve_fen": listing.reserve_fen,
        "price_unit": listing.price_unit,
        "outcome": listing.status if listing.status in UNSOLD else "awarded",
        "seq": seq,
        "at": at,
        "date": (parse_time(at) + CHINA_STANDARD_TIME).date(),
        "status": listing.status,
        "result": result(listing),
    }
