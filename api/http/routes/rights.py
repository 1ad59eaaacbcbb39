"""Retained-rights statements (a person's, a household's), as of now or as of any seq."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get

from api.http.routes.paging import AsOf, Id
from api.reads.statements import household_statement, party_statement
from api.service.service import Service


class RightsController(Controller):
    path = "/v1"
    tags = ["registry"]

    @get(
        "/parties/{party_id:str}/rights",
        operation_id="getPartyRights",
        summary="What a person holds as of a seq, each item with its record's inclusion proof",
    )
    async def party_rights(self, service: Service, party_id: Id, as_of: AsOf = None) -> dict[str, Any]:
        async with service.engine.connect() as conn:
            return await party_statement(conn, party_id, as_of)

    @get(
        "/households/{household_id:str}/rights",
        operation_id="getHouseholdRights",
        summary="What a household holds as of a seq, each item with its record's inclusion proof",
    )
    async def household_rights(
        self, service: Service, household_id: Id, as_of: AsOf = None
    ) -> dict[str, Any]:
        async with service.engine.connect() as conn:
            return await household_statement(conn, household_id, as_of)
