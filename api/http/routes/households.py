"""Households (户) and their members, as the ledger has registered them, with their histories."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, get
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.http.dependencies import Db, Session
from api.http.problems import ApiProblem
from api.http.routes.paging import After, AfterSeq, Id, IdFilter, Limit, keyset_page, where_given
from api.http.wire import from_dict, from_row
from api.http.wire import registry as wire
from api.reads.evidence import entity_history
from api.reads.history import ByColumn, ByKey, Reference
from contracts.certificates import Certificate
from contracts.homesteads import Homestead
from contracts.households import Household, HouseholdMember
from contracts.land import LandContract
from contracts.membership import Membership
from ledger.errors import Category

HouseholdStatus = Annotated[Literal["active", "dissolved"] | None, QueryParameter()]


async def household_json(session: AsyncSession, household_id: str) -> wire.HouseholdDetail:
    """A household with its members and each member's membership status."""
    household = await session.get(Household, household_id)
    if household is None:
        raise ApiProblem(Category.NOT_FOUND, "household.not_found", f"no household {household_id}")
    members = list(
        (
            await session.exec(
                select(HouseholdMember, Membership)
                .join(Membership, col(Membership.party_id) == col(HouseholdMember.party_id), isouter=True)
                .where(HouseholdMember.household_id == household_id)
                .order_by(col(HouseholdMember.joined_seq), col(HouseholdMember.party_id))
            )
        ).all()
    )
    return wire.HouseholdDetail(
        **msgspec.structs.asdict(from_row(wire.Household, household)),
        members=[
            wire.HouseholdMemberStatus(
                **msgspec.structs.asdict(from_row(wire.HouseholdMember, m)),
                membership=None if ms is None else wire.MemberStatus(ms.collective_id, ms.status),
            )
            for m, ms in members
        ],
    )


def household_refs(household_id: str) -> list[Reference]:
    """Every projection row that is, or refers to, the household."""
    return [
        ByKey(Household, (household_id,)),
        *(
            ByColumn(model, "household_id", household_id)
            for model in (HouseholdMember, Membership, LandContract, Homestead, Certificate)
        ),
    ]


async def household_history(
    db: AsyncConnection, session: AsyncSession, household_id: str, after: int, limit: int
) -> wire.HouseholdHistory:
    if await session.get(Household, household_id) is None:
        raise ApiProblem(Category.NOT_FOUND, "household.not_found", f"no household {household_id}")
    found = await entity_history(db, {"household": household_id}, household_refs(household_id), after, limit)
    return from_dict(wire.HouseholdHistory, found)


class HouseholdController(Controller):
    path = "/v1/households"
    tags = ["registry"]

    @get("/", operation_id="listHouseholds", summary="Households, by collective or status")
    async def list_households(
        self,
        session: Session,
        collective: IdFilter = None,
        status: HouseholdStatus = None,
        after: After = None,
        limit: Limit = 100,
    ) -> wire.HouseholdPage:
        query = where_given(
            select(Household), (Household.collective_id, collective), (Household.status, status)
        )
        return await keyset_page(
            session, query, Household.id, after, limit, wire.HouseholdPage, wire.Household
        )

    @get(
        "/{household_id:str}",
        operation_id="getHousehold",
        summary="One household with its members (party ids only)",
    )
    async def get_household(self, session: Session, household_id: Id) -> wire.HouseholdDetail:
        return await household_json(session, household_id)

    @get(
        "/{household_id:str}/history",
        operation_id="getHouseholdHistory",
        summary="Every record that touched the household, with inclusion proofs",
    )
    async def history(
        self, db: Db, session: Session, household_id: Id, after: AfterSeq = -1, limit: Limit = 100
    ) -> wire.HouseholdHistory:
        return await household_history(db, session, household_id, after, limit)
