"""House vouchers (房票) as read models: vouchers by holder, household, developer (the vouchers it
redeemed) or county; and a voucher's statement as of any seq — the voucher (balance, used,
bonus granted), its lineage (the parent it was split from, the children split from it), every
movement and every redemption up to that seq, each with its record's leaf hash and inclusion
proof in the latest checkpoint's tree (``api.reads.evidence``).

The statement is read from ``projection_history`` (``api.reads.history``), so it is exact at
every seq, not only at checkpoints; lists read the live rows, as the exchange board does.
Public: holders are party ids, as in the entries that issued them.

Which rows to read as of a seq is found in the live tables' indexes, then each read by its key
in the history (``versions_of``): a redemption never changes voucher or developer, a split
child never changes parent, and none of these rows is ever deleted, so every row that existed
then exists now with the same reference. A movement row is written once and never changed,
so the live rows up to the seq are the movements as of it (as an exchange listing's steps are).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date
from typing import Any, TypeVar

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.reads.evidence import Proven, prove, snapshot
from api.reads.history import Version, row_as_of, table_name
from contracts.registry import CHINA_STANDARD_TIME
from contracts.vouchers.arithmetic import bonus_bp, expiry_cash, month_of_voucher, stage_amounts
from contracts.vouchers.tables import Redemption, Voucher, VoucherMovement
from ledger.errors import Category, Rejection
from ledger.schema import records
from ledger.store import OF_LEDGER

M = TypeVar("M", bound=SQLModel)


def voucher_json(v: Voucher) -> dict[str, Any]:
    """A voucher as ``api.http.wire.vouchers.Voucher``."""
    return {
        "id": v.id,
        "county": v.county_id,
        "township": v.township_id,
        "village": v.collective_id,
        "household": v.household_id,
        "homestead": v.homestead_id,
        "holders": list(v.holders),
        "parent": v.parent_id,
        "generation": v.generation,
        "schedule": v.schedule_id,
        "zone": v.zone,
        "area_m2": v.area_m2,
        "price_fen_per_m2": v.price_fen_per_m2,
        "appraisal": v.appraisal,
        "appraisal_fen": v.appraisal_fen,
        "face_fen": v.face_fen,
        "used_fen": v.used_fen,
        "bonus_fen": v.bonus_fen,
        "transferred_fen": v.transferred_fen,
        "balance_fen": v.balance_fen,
        "issued_seq": v.issued_seq,
        "issued_on": v.issued_on,
        "valid_until": v.valid_until,
        "status": v.status,
        "cash_due_fen": v.cash_due_fen,
        "ended_seq": v.ended_seq,
        "redemptions": v.redemptions,
        "terms": {
            "bonus_tiers": [{"up_to_month": int(b), "bonus_bp": int(bp)} for b, bp in v.bonus_tiers],
            "transfers_allowed": v.transfers_allowed,
            "par_share_bp": v.par_share_bp,
            "floor_m2_per_person": v.floor_m2_per_person,
            "settlement_stages": [{"stage": str(s), "share_bp": int(bp)} for s, bp in v.stages],
        },
    }


async def voucher_page(
    session: AsyncSession,
    *,
    holder: str | None,
    household: str | None,
    developer: str | None,
    county: str | None,
    after: str | None,
    limit: int,
) -> dict[str, Any]:
    """A page of vouchers in id order; every filter given must hold (``developer``: vouchers
    it redeemed at least once)."""
    query = select(Voucher)
    if holder is not None:
        query = query.where(col(Voucher.holders).contains([holder]))
    if household is not None:
        query = query.where(col(Voucher.household_id) == household)
    if county is not None:
        query = query.where(col(Voucher.county_id) == county)
    if developer is not None:
        redeemed = select(Redemption.voucher_id).where(col(Redemption.developer_id) == developer)
        query = query.where(col(Voucher.id).in_(redeemed))
    if after is not None:
        query = query.where(col(Voucher.id) > after)
    rows = list((await session.exec(query.order_by(col(Voucher.id)).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [voucher_json(v) for v in rows], "next": rows[-1].id if more else None}


async def versions_of(
    conn: AsyncConnection, model: type[M], ids: Sequence[str], as_of: int
) -> list[Version[M]]:
    """The rows of ``model`` (keyed by one id) among ``ids`` that existed after record
    ``as_of``, each as it stood then, in id order."""
    if not ids:
        return []
    rows = (
        await conn.execute(
            text(
                "SELECT key->>0 AS id, seq, row FROM (SELECT DISTINCT ON (key) key, seq, row, deleted "
                f"FROM projection_history WHERE {OF_LEDGER} AND model = :model AND seq <= :as_of "
                "AND key IN (SELECT jsonb_build_array(x) FROM unnest(CAST(:ids AS text[])) x) "
                "ORDER BY key, seq DESC) latest WHERE NOT deleted"
            ),
            {"model": table_name(model), "as_of": as_of, "ids": list(ids)},
        )
    ).all()
    return [
        Version(model.model_validate(_decoded(r.row)), r.seq) for r in sorted(rows, key=lambda r: str(r.id))
    ]


def _decoded(row: Any) -> Any:
    return msgspec.json.decode(row) if isinstance(row, str | bytes) else row


async def redemptions_as_of(
    conn: AsyncConnection, column: Any, value: str, as_of: int
) -> list[Version[Redemption]]:
    """The redemptions whose ``column`` (voucher or developer) is ``value``, as of ``as_of``."""
    ids = (await conn.execute(select(col(Redemption.id)).where(column == value))).scalars().all()
    return await versions_of(conn, Redemption, list(ids), as_of)


async def settlement_seqs(conn: AsyncConnection, ids: Sequence[str], as_of: int) -> dict[str, list[int]]:
    """For each redemption of ``ids``, the seqs of the records that settled its stages up to
    ``as_of``, in stage order: the first version of its row with ``settled_stages`` >= k is the
    record that settled stage k."""
    if not ids:
        return {}
    rows = (
        await conn.execute(
            text(
                "SELECT key->>0 AS id, seq, CAST(row->>'settled_stages' AS integer) AS settled "
                f"FROM projection_history WHERE {OF_LEDGER} AND model = :model AND seq <= :as_of "
                "AND NOT deleted "
                "AND key IN (SELECT jsonb_build_array(x) FROM unnest(CAST(:ids AS text[])) x) "
                "ORDER BY seq"
            ),
            {"model": table_name(Redemption), "as_of": as_of, "ids": list(ids)},
        )
    ).all()
    seqs: dict[str, list[int]] = {i: [] for i in ids}
    for r in rows:
        stages = seqs[r.id]
        while len(stages) < (r.settled or 0):
            stages.append(r.seq)
    return seqs


def redemption_json(
    r: Version[Redemption], settled_by: list[int], proven: dict[int, Proven]
) -> dict[str, Any]:
    """A redemption as ``VoucherRedemption``, its stages with the seq (and evidence, when
    ``proven`` holds it) of the record that settled each."""
    row = r.row
    shares = [(str(s), int(bp)) for s, bp in row.stages]
    stages = []
    for i, ((stage, amount), (_, bp)) in enumerate(
        zip(stage_amounts(row.value_fen, shares), shares, strict=True)
    ):
        seq = settled_by[i] if i < len(settled_by) else None
        stages.append(
            {
                "stage": stage,
                "share_bp": bp,
                "amount_fen": amount,
                "settled": i < row.settled_stages,
                "seq": seq,
                "evidence": proven[seq].json() if seq is not None and seq in proven else None,
            }
        )
    return {
        "id": row.id,
        "voucher": row.voucher_id,
        "developer": row.developer_id,
        "project": row.project_id,
        "county": row.county_id,
        "holder": row.holder,
        "purchase_contract": row.purchase_contract,
        "unit": row.unit,
        "price_fen": row.price_fen,
        "amount_fen": row.amount_fen,
        "month_of_voucher": row.month_of_voucher,
        "bonus_bp": row.bonus_bp,
        "bonus_fen": row.bonus_fen,
        "value_fen": row.value_fen,
        "redeemed_seq": row.redeemed_seq,
        "redeemed_on": row.redeemed_on,
        "settled_fen": row.settled_fen,
        "due_fen": row.value_fen - row.settled_fen,
        "stages": stages,
        "evidence": proven[r.seq].json(),
    }


def proof_seqs(redemptions: Iterable[Version[Redemption]], settled: dict[str, list[int]]) -> set[int]:
    """The seqs a redemption's JSON cites: its row's last change and each settlement."""
    return {s for r in redemptions for s in (r.seq, *settled.get(r.row.id, ()))}


def lineage_json(v: Version[Voucher], proven: dict[int, Proven]) -> dict[str, Any]:
    row = v.row
    return {
        "id": row.id,
        "generation": row.generation,
        "holders": list(row.holders),
        "face_fen": row.face_fen,
        "balance_fen": row.balance_fen,
        "status": row.status,
        "evidence": proven[v.seq].json(),
    }


def cash_at_expiry(v: Voucher) -> int:
    """The cash its remainder is (or would be, expiring as it stands) paid in at expiry."""
    if v.cash_due_fen is not None:
        return v.cash_due_fen
    return expiry_cash(v.face_fen, v.used_fen, v.bonus_fen, v.balance_fen, v.par_share_bp)


async def local_date_of(conn: AsyncConnection, seq: int) -> date:
    """The China date of record ``seq``: "today" for the rules that recorded it."""
    at = (await conn.execute(select(records.c.recorded_at).where(records.c.seq == seq))).scalar_one()
    return (at.astimezone(UTC) + CHINA_STANDARD_TIME).date()  # type: ignore[no-any-return]


def bonus_on(v: Voucher, day: date) -> dict[str, Any]:
    """The month of its life the voucher is in on ``day`` and the bonus a redemption that day
    adds, while it is redeemable (active and not past its validity); else both null."""
    if v.status != "active" or not v.issued_on <= day <= v.valid_until:
        return {"month_of_voucher": None, "bonus_bp": None}
    month = month_of_voucher(v.issued_on, day)
    return {"month_of_voucher": month, "bonus_bp": bonus_bp(v.bonus_tiers, month)}


async def voucher_statement(conn: AsyncConnection, voucher_id: str, requested: int | None) -> dict[str, Any]:
    """``VoucherStatement``'s fields for ``voucher_id`` as of seq ``requested`` (default: the
    last record of the latest checkpoint); a 404 problem for a voucher not issued by then."""
    snap = await snapshot(conn)
    as_of = snap.as_of(requested)
    found = await row_as_of(conn, Voucher, (voucher_id,), as_of)
    if found is None:
        raise Rejection(
            "voucher.not_found", f"no voucher {voucher_id} as of seq {as_of}", category=Category.NOT_FOUND
        )
    v = found.row
    parent = await row_as_of(conn, Voucher, (v.parent_id,), as_of) if v.parent_id else None
    child_ids = (
        await conn.execute(select(col(Voucher.id)).where(col(Voucher.parent_id) == voucher_id))
    ).scalars()
    children = await versions_of(conn, Voucher, list(child_ids), as_of)
    movements = [
        VoucherMovement.model_validate(dict(r._mapping))
        for r in await conn.execute(
            select(VoucherMovement.__table__)  # type: ignore[attr-defined]
            .where(col(VoucherMovement.voucher_id) == voucher_id, col(VoucherMovement.seq) <= as_of)
            .order_by(col(VoucherMovement.seq))
        )
    ]
    redemptions = await redemptions_as_of(conn, col(Redemption.voucher_id), voucher_id, as_of)
    settled = await settlement_seqs(conn, [r.row.id for r in redemptions], as_of)
    cited = {
        found.seq,
        *(m.seq for m in movements),
        *(c.seq for c in children),
        *([parent.seq] if parent else []),
        *proof_seqs(redemptions, settled),
    }
    proven = await prove(conn, cited, snap)
    day = await local_date_of(conn, as_of)
    return {
        "as_of": as_of,
        "as_of_date": day,
        "checkpoint": snap.json(),
        "voucher": voucher_json(v),
        "evidence": proven[found.seq].json(),
        **bonus_on(v, day),
        "expiry_cash_fen": cash_at_expiry(v),
        "lineage": {
            "parent": lineage_json(parent, proven) if parent else None,
            "children": [lineage_json(c, proven) for c in children],
        },
        "movements": [
            {
                "seq": m.seq,
                "kind": m.kind,
                "amount_fen": m.amount_fen,
                "bonus_fen": m.bonus_fen,
                "balance_fen": m.balance_fen,
                "ref": m.ref,
                "leaf_hash": proven[m.seq].record.leaf_hash.hex(),
                "inclusion_proof": [h.hex() for h in proven[m.seq].proof],
            }
            for m in movements
        ],
        "redemptions": [redemption_json(r, settled.get(r.row.id, []), proven) for r in redemptions],
    }
