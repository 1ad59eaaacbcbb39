"""Collective members (成员): each person's current or last membership, by party id only."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
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
from api.reads.history import ByKey, ByMember, Reference
from contracts.certificates import Certificate
from contracts.households import HouseholdMember
from contracts.membership import Membership
from contracts.parties import Party
from ledger.errors import Category

MembershipStatus = Annotated[
    Literal["in_notice", "suspended", "active", "settled_in_town", "ended", "rejected"] | None,
    QueryParameter(),
]


async def member_json(session: AsyncSession, party_id: str) -> wire.Member:
    membership = await session.get(Membership, party_id)
    if membership is None:
        raise ApiProblem(Category.NOT_FOUND, "member.not_found", f"party {party_id} has no membership")
    in_household = await session.get(HouseholdMember, party_id)
    return wire.Member(
        **msgspec.structs.asdict(from_row(wire.Membership, membership)),
        household_member=None if in_household is None else from_row(wire.HouseholdMember, in_household),
    )


def person_refs(party_id: str) -> list[Reference]:
    """The person's own rows, and the certificates that list the person."""
    return [
        ByKey(Party, (party_id,)),
        ByKey(Membership, (party_id,)),
        ByKey(HouseholdMember, (party_id,)),
        ByMember(Certificate, "persons", party_id),
    ]


async def member_history(
    db: AsyncConnection, session: AsyncSession, party_id: str, after: int, limit: int
) -> wire.PartyHistory:
    if await session.get(Party, party_id) is None:
        raise ApiProblem(Category.NOT_FOUND, "party.not_found", f"no party {party_id}")
    found = await entity_history(db, {"party": party_id}, person_refs(party_id), after, limit)
    return from_dict(wire.PartyHistory, found)


class MemberController(Controller):
    path = "/v1/members"
    tags = ["registry"]

    @get(
        "/",
        operation_id="listMembers",
        summary="Memberships, by collective, household or status (party ids only)",
    )
    async def list_members(
        self,
        session: Session,
        collective: IdFilter = None,
        household: IdFilter = None,
        status: MembershipStatus = None,
        after: After = None,
        limit: Limit = 100,
    ) -> wire.MembershipPage:
        query = where_given(
            select(Membership),
            (Membership.collective_id, collective),
            (Membership.household_id, household),
            (Membership.status, status),
        )
        return await keyset_page(
            session, query, Membership.party_id, after, limit, wire.MembershipPage, wire.Membership
        )

    @get("/{party_id:str}", operation_id="getMember", summary="One person's membership")
    async def get_member(self, session: Session, party_id: Id) -> wire.Member:
        return await member_json(session, party_id)

    @get(
        "/{party_id:str}/history",
        operation_id="getMemberHistory",
        summary="Every record that touched the person, with inclusion proofs",
    )
    async def history(
        self, db: Db, session: Session, party_id: Id, after: AfterSeq = -1, limit: Limit = 100
    ) -> wire.PartyHistory:
        return await member_history(db, session, party_id, after, limit)
