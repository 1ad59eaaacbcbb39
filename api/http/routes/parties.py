"""Parties and their personal data: the blind index a clerk needs before registering a person,
and the erasable personal fields, shown only to organisations that govern the person."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, post
from sqlmodel.ext.asyncio.session import AsyncSession

from api.http.auth import Caller, org_chain
from api.http.body import json_body
from api.http.dependencies import Service, Session, SignedCaller
from api.http.problems import ApiProblem
from api.http.routes.paging import Id
from api.http.wire import parties as wire
from api.service.personal import PersonalData
from api.service.service import LedgerService
from contracts.identifiers import InvalidIdentifier, validate_resident_id
from contracts.membership import Membership
from contracts.orgs import Org
from contracts.parties import Party, blind_index
from contracts.registry import china_date
from ledger.errors import Category


async def may_see(session: AsyncSession, caller: Caller, party: Party) -> bool:
    """The registering organisation, the person's collective, and every organisation above
    either of them."""
    if caller.governs(party.registered_by, await org_chain(session, party.registered_by)):
        return True
    membership = await session.get(Membership, party.id)
    if membership is None:
        return False
    return caller.governs(membership.collective_id, await org_chain(session, membership.collective_id))


async def existing_party_shown(service: LedgerService, actor: object, party_id: str) -> bool:
    """Whether a refused entry's actor may be told which party a resident ID number already
    belongs to. Asked only for a rule's refusal, so the entry's signature by ``actor`` was
    verified; read on a connection of its own (a submission holds none)."""
    if not isinstance(actor, str):
        return False
    async with AsyncSession(service.engine) as session:
        org = await session.get(Org, actor)
        party = await session.get(Party, party_id)
        if org is None or party is None:
            return False
        return await may_see(session, Caller(org, await org_chain(session, org.id)), party)


async def party_or_404(session: AsyncSession, party_id: str) -> Party:
    party = await session.get(Party, party_id)
    if party is None:
        raise ApiProblem(Category.NOT_FOUND, "party.not_found", f"no party {party_id}")
    return party


class BlindIndexRequest(msgspec.Struct, forbid_unknown_fields=True):
    id_number: str


class PartyController(Controller):
    path = "/v1/parties"
    tags = ["parties"]

    @post(
        "/blind-index",
        operation_id="blindIndex",
        status_code=200,
        summary="This ledger's blind index of a resident ID number (signed request)",
    )
    async def blind_index(
        self, request: Request[Any, Any, Any], service: Service, caller: SignedCaller
    ) -> wire.BlindIndex:
        try:
            body = await json_body(request, BlindIndexRequest)
        except msgspec.ValidationError as e:
            raise ApiProblem(
                Category.MALFORMED, "request.malformed", f'expected {{"id_number": "..."}}: {e}'
            ) from e
        today = china_date(service.appender.clock())
        try:
            validate_resident_id(body.id_number, today)
        except InvalidIdentifier as e:
            raise ApiProblem(Category.INVALID, "personal.invalid_id_number", str(e)) from e
        return wire.BlindIndex(blind_index(service.blind_secret, body.id_number))

    @get(
        "/{party_id:str}",
        operation_id="getParty",
        summary="A party as the ledger knows it (no personal data)",
    )
    async def get_party(self, session: Session, party_id: Id) -> wire.Party:
        party = await party_or_404(session, party_id)
        membership = await session.get(Membership, party_id)
        return wire.Party(
            id=party.id,
            commitment=party.commitment,
            registered_by=party.registered_by,
            registered_seq=party.registered_seq,
            membership=None
            if membership is None
            else wire.PartyMembership(membership.collective_id, membership.status),
        )

    @get(
        "/{party_id:str}/personal",
        operation_id="getPersonalData",
        summary="A person's personal fields (signed request by a governing organisation)",
    )
    async def get_personal(self, caller: SignedCaller, session: Session, party_id: Id) -> wire.PersonalData:
        party = await party_or_404(session, party_id)
        if not await may_see(session, caller, party):
            raise ApiProblem(
                Category.FORBIDDEN, "auth.forbidden", f"{caller.org.id} does not govern party {party_id}"
            )
        row = await session.get(PersonalData, party_id)
        if row is None:
            raise ApiProblem(
                Category.NOT_FOUND, "personal.erased", f"party {party_id}'s personal data is erased"
            )
        return wire.PersonalData(
            party=party_id,
            name=row.name,
            id_number=row.id_number,
            sex=row.sex,
            birth_date=row.birth_date,
            phone=row.phone,
            salt=row.salt,
            commitment=party.commitment,
        )

    @delete(
        "/{party_id:str}/personal",
        operation_id="erasePersonalData",
        status_code=200,
        summary="Erase a person's personal fields; the ledger stays verifiable",
    )
    async def erase_personal(
        self, caller: SignedCaller, session: Session, party_id: Id
    ) -> wire.PersonalDataErased:
        party = await party_or_404(session, party_id)
        if not caller.governs(party.registered_by, await org_chain(session, party.registered_by)):
            raise ApiProblem(
                Category.FORBIDDEN, "auth.forbidden", f"{caller.org.id} did not register party {party_id}"
            )
        row = await session.get(PersonalData, party_id)
        if row is not None:
            await session.delete(row)
            await session.commit()
        return wire.PersonalDataErased(party_id, row is not None)
