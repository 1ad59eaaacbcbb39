"""Retained-rights statements (a person's, a household's), as of now or as of any seq."""

from __future__ import annotations

from litestar import Controller, Response, get

from api.http.dependencies import Db
from api.http.routes.paging import AsOf, Id
from api.http.wire import from_dict
from api.http.wire.statements import HouseholdStatement, PartyStatement
from api.reads.rights_page import household_page, party_page
from api.reads.statements import household_statement, party_statement

PRINTED = (
    "The same statement as a printable page in Chinese (one A4 sheet, times in Beijing time): "
    "`GET {path}/print`, with the same `as_of`."
)


class RightsController(Controller):
    path = "/v1"
    tags = ["registry"]

    @get(
        "/parties/{party_id:str}/rights",
        operation_id="getPartyRights",
        summary="What a person holds as of a seq, each item with its record's inclusion proof",
        description=PRINTED.format(path="/v1/parties/{party_id}/rights"),
    )
    async def party_rights(self, db: Db, party_id: Id, as_of: AsOf = None) -> PartyStatement:
        return from_dict(PartyStatement, await party_statement(db, party_id, as_of))

    @get(
        "/households/{household_id:str}/rights",
        operation_id="getHouseholdRights",
        summary="What a household holds as of a seq, each item with its record's inclusion proof",
        description=PRINTED.format(path="/v1/households/{household_id}/rights"),
    )
    async def household_rights(self, db: Db, household_id: Id, as_of: AsOf = None) -> HouseholdStatement:
        return from_dict(HouseholdStatement, await household_statement(db, household_id, as_of))

    @get(
        "/parties/{party_id:str}/rights/print",
        operation_id="printPartyRights",
        media_type="text/html",
        summary="What a person holds as of a seq, as a printable page (Chinese, one A4 sheet)",
        description="The JSON statement, with every inclusion proof: `GET /v1/parties/{party_id}/rights`.",
    )
    async def print_party_rights(self, db: Db, party_id: Id, as_of: AsOf = None) -> Response[str]:
        return Response(await party_page(db, party_id, as_of), media_type="text/html")

    @get(
        "/households/{household_id:str}/rights/print",
        operation_id="printHouseholdRights",
        media_type="text/html",
        summary="What a household holds as of a seq, as a printable page (Chinese, one A4 sheet)",
        description="The JSON statement, with every inclusion proof: "
        "`GET /v1/households/{household_id}/rights`.",
    )
    async def print_household_rights(self, db: Db, household_id: Id, as_of: AsOf = None) -> Response[str]:
        return Response(await household_page(db, household_id, as_of), media_type="text/html")
