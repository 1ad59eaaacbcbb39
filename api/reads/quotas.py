"""Land quotas (增减挂钩节余指标 / 地票) as read models: the quotas of a collective or by status,
and one quota as of any seq with every record up to there that changed it (application,
project approval, acceptance, confirmation, the exchange certificate that moved it to the buyer,
the proceeds' split, the use), each with its inclusion proof in the latest checkpoint's tree.

Its exchange listing's own history (registrations, bids) is at
``/v1/exchange/listings/{listing}``. Public: a holder is a household id, a collective's
organisation id, a party id or an entity's credit code, as in the entries."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.reads.evidence import prove, snapshot
from api.reads.exchange_board import area_mu
from api.reads.history import ByKey, row_as_of, touching_seqs
from contracts.quotas.tables import LandQuota
from ledger.errors import Category, Rejection

MAX_RECORDS = 1000  # a quota's records: a handful (its steps are one each)


def quota_json(q: LandQuota) -> dict[str, Any]:
    """A quota as ``api.http.wire.vouchers.LandQuota``."""
    return {
        "id": q.id,
        "county": q.county_id,
        "township": q.township_id,
        "village": q.collective_id,
        "source": q.source,
        "site": q.site,
        "household": q.household_id,
        "site_area_m2": q.site_area_m2,
        "holder": q.holder,
        "holder_kind": q.holder_kind,
        "status": q.status,
        "holder_consent": q.holder_consent,
        "collective_consent": q.collective_consent,
        "project_document": q.project_document,
        "acceptance_document": q.acceptance_document,
        "measured_m2": q.measured_m2,
        "quota_m2": q.quota_m2,
        "quota_mu": None if q.quota_m2 is None else area_mu(q.quota_m2),
        "listing": q.listing_id,
        "value_fen": q.value_fen,
        "household_fen": q.household_fen,
        "collective_fen": q.collective_fen,
        "used_zone": q.used_zone,
        "applied_seq": q.applied_seq,
        "approved_seq": q.approved_seq,
        "accepted_seq": q.accepted_seq,
        "confirmed_seq": q.confirmed_seq,
        "traded_seq": q.traded_seq,
        "split_seq": q.split_seq,
        "used_seq": q.used_seq,
    }


async def quota_rows(
    session: AsyncSession,
    *,
    collective: str | None = None,
    county: str | None = None,
    status: str | None,
    after: str | None,
    limit: int,
) -> tuple[list[LandQuota], str | None]:
    """A page of quotas in id order (of ``collective``, of ``county``, in ``status`` when
    given) and the id the next page starts after (None on the last)."""
    query = select(LandQuota)
    if collective is not None:
        query = query.where(col(LandQuota.collective_id) == collective)
    if county is not None:
        query = query.where(col(LandQuota.county_id) == county)
    if status is not None:
        query = query.where(col(LandQuota.status) == status)
    if after is not None:
        query = query.where(col(LandQuota.id) > after)
    rows = list((await session.exec(query.order_by(col(LandQuota.id)).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


async def quota_page(
    session: AsyncSession, *, collective: str | None, status: str | None, after: str | None, limit: int
) -> dict[str, Any]:
    """A page of quotas in id order, of ``collective`` and in ``status`` when given."""
    rows, after_last = await quota_rows(
        session, collective=collective, status=status, after=after, limit=limit
    )
    return {"items": [quota_json(q) for q in rows], "next": after_last}


async def quota_detail(conn: AsyncConnection, quota_id: str, requested: int | None) -> dict[str, Any]:
    """``LandQuotaDetail``'s fields as of seq ``requested`` (default: the last record of the
    latest checkpoint); a 404 problem for a quota not applied for by then."""
    snap = await snapshot(conn)
    as_of = snap.as_of(requested)
    found = await row_as_of(conn, LandQuota, (quota_id,), as_of)
    if found is None:
        raise Rejection(
            "quota.not_found", f"no land quota {quota_id} as of seq {as_of}", category=Category.NOT_FOUND
        )
    seqs = await touching_seqs(
        conn, [ByKey(LandQuota, (quota_id,))], after=-1, before=as_of + 1, limit=MAX_RECORDS
    )
    proven = await prove(conn, seqs, snap)
    return {
        **quota_json(found.row),
        "as_of": as_of,
        "checkpoint": snap.json(),
        "records": [proven[s].with_record() for s in seqs],
    }
