"""Homesteads (宅基地使用权): one per household, held or withdrawn."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.http.dependencies import Db, Session
from api.http.problems import ApiProblem
from api.http.routes.paging import After, AfterSeq, Id, IdFilter, Limit, keyset_page, where_given
from api.http.wire import from_dict, from_row
from api.http.wire import registry as wire
from api.reads.evidence import entity_history
from api.reads.history import ByKey
from contracts.homesteads import Homestead
from ledger.errors import Category

HomesteadStatus = Annotated[Literal["held", "withdrawn"] | None, QueryParameter()]
HomesteadZone = Annotated[
    Literal["suburb", "plain", "plain_saline", "hilly_flat", "hilly_slope"] | None, QueryParameter()
]


async def homestead_json(session: AsyncSession, homestead_id: str) -> wire.Homestead:
    homestead = await session.get(Homestead, homestead_id)
    if homestead is None:
        raise ApiProblem(Category.NOT_FOUND, "homestead.not_found", f"no homestead {homestead_id}")
    return from_row(wire.Homestead, homestead)


async def homestead_history(
    db: AsyncConnection, session: AsyncSession, homestead_id: str, after: int, limit: int
) -> wire.HomesteadHistory:
    await homestead_json(session, homestead_id)
    found = await entity_history(
        db, {"homestead": homestead_id}, [ByKey(Homestead, (homestead_id,))], after, limit
    )
    return from_dict(wire.HomesteadHistory, found)


class HomesteadController(Controller):
    path = "/v1/homesteads"
    tags = ["registry"]

    @get("/", operation_id="listHomesteads", summary="Homesteads, by collective, household, status or zone")
    async def list_homesteads(
        self,
        session: Session,
        collective: IdFilter = None,
        household: IdFilter = None,
        status: HomesteadStatus = None,
        zone: HomesteadZone = None,
        after: After = None,
        limit: Limit = 100,
    ) -> wire.HomesteadPage:
        query = where_given(
            select(Homestead),
            (Homestead.collective_id, collective),
            (Homestead.household_id, household),
            (Homestead.status, status),
            (Homestead.zone, zone),
        )
        return await keyset_page(
            session, query, Homestead.id, after, limit, wire.HomesteadPage, wire.Homestead
        )

    @get("/{homestead_id:str}", operation_id="getHomestead", summary="One homestead")
    async def get_homestead(self, session: Session, homestead_id: Id) -> wire.Homestead:
        return await homestead_json(session, homestead_id)

    @get(
        "/{homestead_id:str}/history",
        operation_id="getHomesteadHistory",
        summary="Every record that touched the homestead, with inclusion proofs",
    )
    async def get_history(
        self, db: Db, session: Session, homestead_id: Id, after: AfterSeq = -1, limit: Limit = 100
    ) -> wire.HomesteadHistory:
        return await homestead_history(db, session, homestead_id, after, limit)
