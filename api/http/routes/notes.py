"""Free-text notes on entries: read and erased by the entry's actor organisation and the
organisations above it (signed requests); never part of the ledger."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get
from litestar.params import FromPath
from sqlmodel.ext.asyncio.session import AsyncSession

from api.http.auth import Caller, org_chain
from api.http.dependencies import Session, SignedCaller
from api.http.problems import ApiProblem
from api.http.wire.parties import EntryNote as EntryNoteOut
from api.http.wire.parties import EntryNoteErased
from api.service.notes import EntryNote
from ledger.entry import format_time
from ledger.errors import Category


async def governed_note(session: AsyncSession, caller: Caller, entry_id: str) -> EntryNote:
    note = await session.get(EntryNote, entry_id)
    if note is None:
        raise ApiProblem(Category.NOT_FOUND, "note.not_found", f"entry {entry_id} has no note")
    if not caller.governs(note.actor, await org_chain(session, note.actor)):
        raise ApiProblem(
            Category.FORBIDDEN,
            "note.forbidden",
            f"{caller.org.id} does not govern the actor of entry {entry_id}",
        )
    return note


class NoteController(Controller):
    path = "/v1/entries/by-id/{entry_id:uuid}/note"
    tags = ["records"]

    @get(
        "/",
        operation_id="getEntryNote",
        summary="An entry's free-text note (signed request by the actor or an organisation above it)",
    )
    async def get_note(
        self, caller: SignedCaller, session: Session, entry_id: FromPath[uuid.UUID]
    ) -> EntryNoteOut:
        note = await governed_note(session, caller, str(entry_id))
        return EntryNoteOut(note.entry_id, note.actor, note.text, format_time(note.created_at))

    @delete(
        "/",
        operation_id="eraseEntryNote",
        status_code=200,
        summary="Erase an entry's free-text note; the ledger stays verifiable",
    )
    async def erase_note(
        self, caller: SignedCaller, session: Session, entry_id: FromPath[uuid.UUID]
    ) -> EntryNoteErased:
        note = await governed_note(session, caller, str(entry_id))
        await session.delete(note)
        await session.commit()
        return EntryNoteErased(str(entry_id), True)
