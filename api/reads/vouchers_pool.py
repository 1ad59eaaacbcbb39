"""The voucher market's other side: a developer's redemption and settlement report as of any
seq, the developer pool with its projects, and the counties' price schedules with the one in
force today marked.

A redemption's value (amount + bonus) is settled to the developer stage by stage as the county
pays; each stage pays the stages' cumulative shares of the value, rounded down, differenced
(``contracts.vouchers.arithmetic.stage_amounts``), so the stages sum to the value exactly.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.reads.evidence import prove, snapshot
from api.reads.exchange_monitoring import region
from api.reads.history import row_as_of
from api.reads.vouchers import proof_seqs, redemption_json, redemptions_as_of, settlement_seqs
from contracts.orgs import Org
from contracts.vouchers.tables import PoolDeveloper, PoolProject, PriceSchedule, Redemption
from ledger.errors import Category, Rejection


async def developer_redemptions(
    conn: AsyncConnection, developer_id: str, requested: int | None, after: str | None, limit: int
) -> dict[str, Any]:
    """``DeveloperRedemptions``' fields: the developer's redemptions as of seq ``requested``
    (a page of them in id order after ``after``) with their totals over all of them; a 404
    problem for an organisation that is not a developer as of that seq."""
    snap = await snapshot(conn)
    as_of = snap.as_of(requested)
    org = await row_as_of(conn, Org, (developer_id,), as_of)
    if org is None or org.row.type != "developer":
        raise Rejection(
            "developer.not_found",
            f"no developer {developer_id} as of seq {as_of}",
            category=Category.NOT_FOUND,
        )
    pool = await row_as_of(conn, PoolDeveloper, (developer_id,), as_of)
    every = await redemptions_as_of(conn, col(Redemption.developer_id), developer_id, as_of)
    totals = {"count": len(every), "amount_fen": 0, "bonus_fen": 0, "value_fen": 0, "settled_fen": 0}
    for r in every:
        for name in ("amount_fen", "bonus_fen", "value_fen", "settled_fen"):
            totals[name] += getattr(r.row, name)
    page = [r for r in every if after is None or r.row.id > after]
    more = len(page) > limit
    page = page[:limit]
    settled = await settlement_seqs(conn, [r.row.id for r in page], as_of)
    proven = await prove(conn, proof_seqs(page, settled), snap)
    return {
        "developer": region(org.row),
        "as_of": as_of,
        "checkpoint": snap.json(),
        "pool": None
        if pool is None
        else {
            "county": pool.row.county_id,
            "status": pool.row.status,
            "admitted_seq": pool.row.admitted_seq,
            "left_seq": pool.row.left_seq,
        },
        "totals": {**totals, "due_fen": totals["value_fen"] - totals["settled_fen"]},
        "items": [redemption_json(r, settled.get(r.row.id, []), proven) for r in page],
        "next": page[-1].row.id if more else None,
    }


def in_force(schedules: list[PriceSchedule], today: date) -> set[str]:
    """The schedule of each county in force on ``today``: its latest ``effective_from`` on or
    before it."""
    best: dict[str, PriceSchedule] = {}
    for s in schedules:
        if s.effective_from <= today and (
            s.county_id not in best or s.effective_from > best[s.county_id].effective_from
        ):
            best[s.county_id] = s
    return {s.id for s in best.values()}


async def price_schedules(
    session: AsyncSession, county: str | None, today: date, limit: int
) -> dict[str, Any]:
    """The price schedules of ``county`` (or of every county), by county and effective date, at
    most ``limit`` of them; the one each county has in force on ``today`` marked."""
    query = select(PriceSchedule)
    if county is not None:
        query = query.where(col(PriceSchedule.county_id) == county)
    rows = list(
        (
            await session.exec(
                query.order_by(col(PriceSchedule.county_id), col(PriceSchedule.effective_from)).limit(limit)
            )
        ).all()
    )
    counties = sorted({s.county_id for s in rows})
    # In force is decided among all of a county's schedules, not only the page's.
    standing = (
        list(
            (
                await session.exec(
                    select(PriceSchedule).where(
                        col(PriceSchedule.county_id).in_(counties), col(PriceSchedule.effective_from) <= today
                    )
                )
            ).all()
        )
        if counties
        else []
    )
    force = in_force(standing, today)
    return {
        "today": today,
        "items": [
            {
                "id": s.id,
                "county": s.county_id,
                "effective_from": s.effective_from,
                "prices": [{"zone": z, "fen_per_m2": int(p)} for z, p in sorted(s.prices.items())],
                "published_seq": s.published_seq,
                "in_force": s.id in force,
            }
            for s in rows
        ],
    }


async def pool_page(
    session: AsyncSession, county: str | None, status: str | None, after: str | None, limit: int
) -> dict[str, Any]:
    """A page of the developers admitted to a pool (of ``county``, or every county), in id
    order, each with its projects."""
    query = select(PoolDeveloper)
    if county is not None:
        query = query.where(col(PoolDeveloper.county_id) == county)
    if status is not None:
        query = query.where(col(PoolDeveloper.status) == status)
    if after is not None:
        query = query.where(col(PoolDeveloper.developer_id) > after)
    rows = list((await session.exec(query.order_by(col(PoolDeveloper.developer_id)).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    projects: dict[str, list[PoolProject]] = {}
    if rows:
        found = await session.exec(
            select(PoolProject)
            .where(col(PoolProject.developer_id).in_([d.developer_id for d in rows]))
            .order_by(col(PoolProject.id))
        )
        for p in found.all():
            projects.setdefault(p.developer_id, []).append(p)
    return {
        "items": [
            {
                "developer": d.developer_id,
                "county": d.county_id,
                "status": d.status,
                "admitted_seq": d.admitted_seq,
                "left_seq": d.left_seq,
                "projects": [
                    {
                        "id": p.id,
                        "presale_permit": p.presale_permit,
                        "area_code": p.area_code,
                        "registered_seq": p.registered_seq,
                    }
                    for p in projects.get(d.developer_id, [])
                ],
            }
            for d in rows
        ],
        "next": rows[-1].developer_id if more else None,
    }
