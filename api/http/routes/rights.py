"""Retained-rights statements (a person's, a household's), as of now or as of any seq."""

from __future__ import annotations

from litestar import Controller, get

from api.http.dependencies import Db
from api.http.routes.paging import AsOf, Id
from api.http.wire import from_dict
from api.http.wire.statements import HouseholdStatement, PartyStatement
from api.reads.statements import household_statement, party_statement


class RightsController(Controller):
    path = "/v1"
    tags = ["registry"]

    @get(
        "/parties/{party_id:str}/rights",
        operation_id="getPartyRights",
        summary="What a person holds as of a seq, each item with its record's inclusion proof",
    )
    async def party_rights(self, db: Db, party_id: Id, as_of: AsOf = None) -> PartyStatement:
        return from_dict(PartyStatement, await party_statement(db, party_id, as_of))

    @get(
        "/households/{household_id:str}/rights",
        operation_id="getHouseholdRights",
        summary="What a household holds as of a seq, each item with its record's inclusion proof",
    )
    async def household_rights(self, db: Db, household_id: Id, as_of: AsOf = None) -> HouseholdStatement:
        return from_dict(HouseholdStatement, await household_statement(db, household_id, as_of))
