"""Shareholdings: a collective's cap table (now or as of any seq), a member's and a household's
holdings, dividend payouts, and the share register as CSV."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import FromPath, QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select

from api.http.dependencies import Db, Session
from api.http.problems import ApiProblem
from api.http.routes.paging import MAX_SEQ
from api.http.wire import shares as wire
from api.reads.history import rows_as_of
from contracts.dividends import Dividend
from contracts.shares import ShareHolding, ShareScheme
from ledger import store
from ledger.errors import Category

AsOf = Annotated[int | None, QueryParameter(ge=0, le=MAX_SEQ, description="a seq; default: now")]


async def cap_table(db: AsyncConnection, collective: str, as_of: int | None) -> wire.CapTable:
    latest = await db.run_sync(store.latest_checkpoint)
    size = latest.size if latest else 0
    if as_of is not None and as_of >= size:
        raise ApiProblem(Category.MALFORMED, "request.as_of_out_of_range", f"as_of must be below {size}")
    seq = size - 1 if as_of is None else as_of
    schemes = await rows_as_of(db, ShareScheme, seq, where={"collective_id": collective})
    holdings = await rows_as_of(db, ShareHolding, seq, where={"collective_id": collective})
    if not schemes:
        raise ApiProblem(
            Category.NOT_FOUND,
            "shares.not_quantified",
            f"{collective} had not quantified shares as of seq {seq}",
        )
    scheme = schemes[0].row
    total = scheme.total_units
    return wire.CapTable(
        collective=collective,
        as_of=seq,
        scheme=wire.ShareScheme(
            id=scheme.id,
            scheme_date=scheme.scheme_date,
            management=scheme.management,
            issued_units=scheme.issued_units,
            total_units=total,
            collective_units=scheme.collective_units,
            quantified_seq=scheme.quantified_seq,
        ),
        holders=[
            wire.CapTableHolder(
                holder=h.row.holder,
                household=h.row.household_id,
                units=h.row.units,
                pledged_units=h.row.pledged_units,
                income_only=h.row.income_only,
                share_bp=h.row.units * 10_000 // total if total else 0,
                changed_seq=h.seq,
            )
            for h in holdings
            if h.row.units > 0
        ],
    )


def holding_json(h: ShareHolding) -> wire.Holding:
    return wire.Holding(
        collective=h.collective_id,
        holder=h.holder,
        household=h.household_id,
        units=h.units,
        pledged_units=h.pledged_units,
        income_only=h.income_only,
    )


class ShareController(Controller):
    path = "/v1/shares"
    tags = ["shares"]

    @get(
        "/collectives/{collective:str}",
        operation_id="capTable",
        summary="A collective's cap table, now or as of a seq",
    )
    async def cap_table(self, db: Db, collective: FromPath[str], as_of: AsOf = None) -> wire.CapTable:
        return await cap_table(db, collective, as_of)

    @get(
        "/collectives/{collective:str}/register.csv",
        operation_id="shareRegisterCsv",
        media_type="text/csv",
        summary="The share register as CSV (holders by party id)",
    )
    async def register_csv(self, db: Db, collective: FromPath[str], as_of: AsOf = None) -> Response[str]:
        table = await cap_table(db, collective, as_of)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "collective",
                "as_of_seq",
                "holder",
                "household",
                "units",
                "pledged_units",
                "income_only",
                "share_percent",
            ]
        )
        for h in table.holders:
            writer.writerow(
                [
                    collective,
                    table.as_of,
                    h.holder,
                    h.household or "",
                    h.units,
                    h.pledged_units,
                    str(h.income_only).lower(),
                    f"{h.share_bp / 100:.2f}",
                ]
            )
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{collective}-shares.csv"'},
        )

    @get(
        "/holders/{holder:str}",
        operation_id="holdingsOfHolder",
        summary="What a member (or heir) holds, in every collective",
    )
    async def of_holder(self, session: Session, holder: FromPath[str]) -> wire.HolderHoldings:
        rows = (
            await session.exec(
                select(ShareHolding)
                .where(ShareHolding.holder == holder)
                .order_by(col(ShareHolding.collective_id))
            )
        ).all()
        return wire.HolderHoldings(holder, [holding_json(h) for h in rows if h.units > 0])

    @get(
        "/households/{household:str}",
        operation_id="holdingsOfHousehold",
        summary="What a household's members hold",
    )
    async def of_household(self, session: Session, household: FromPath[str]) -> wire.HouseholdHoldings:
        rows = (
            await session.exec(
                select(ShareHolding)
                .where(ShareHolding.household_id == household)
                .order_by(col(ShareHolding.holder))
            )
        ).all()
        return wire.HouseholdHoldings(
            household, [holding_json(h) for h in rows if h.units > 0], sum(h.units for h in rows)
        )

    @get(
        "/dividends/{dividend:str}",
        operation_id="dividendPayouts",
        summary="A dividend and its payout per holder",
    )
    async def payouts(self, session: Session, dividend: FromPath[str]) -> wire.DividendPayouts:
        d = await session.get(Dividend, dividend)
        if d is None:
            raise ApiProblem(Category.NOT_FOUND, "dividend.not_found", f"no dividend {dividend}")
        return wire.DividendPayouts(
            dividend=d.id,
            collective=d.collective_id,
            amount_fen=d.amount_fen,
            distributable_fen=d.distributable_fen,
            units=d.units,
            declared_seq=d.declared_seq,
            payouts=[wire.Payout(holder, units, fen) for holder, (units, fen) in sorted(d.payouts.items())],
        )
