"""Free-text notes on entries (e.g. a parcel's 四至 as written on paper): never in the ledger.

A submission may carry a ``"note"`` beside ``"entry"`` and ``"sig"``. It is never hashed or
signed, never in a record or an export; it is stored in an erasable table in the append
transaction only if its entry is admitted, and shown only to the entry's actor organisation
and the organisations above it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

from contracts.registry import UNSAFE_TEXT
from ledger.entry import SignedEntry
from ledger.errors import Category, Rejection

MAX_NOTE_LENGTH = 2000


class EntryNote(SQLModel, table=True):
    """Never part of the ledger: deleting a row erases the note and leaves the log intact."""

    __tablename__ = "entry_notes"
    entry_id: str = Field(primary_key=True)
    actor: str
    text: str
    created_at: datetime = Field(sa_type=DateTime(timezone=True))


def check_note(signed: SignedEntry, note: Any, now: datetime) -> EntryNote:
    """The note row for an entry, or a 422 ``note.invalid``: a string of 1 to 2,000
    characters, holding no character the payload text rule refuses except line feed and tab."""
    if not isinstance(note, str):
        raise Rejection(
            "note.invalid", f'"note" must be a string, found {type(note).__name__}', category=Category.INVALID
        )
    if not 1 <= len(note) <= MAX_NOTE_LENGTH:
        raise Rejection(
            "note.invalid",
            f'"note" must hold 1 to {MAX_NOTE_LENGTH} characters, found {len(note)}',
            category=Category.INVALID,
        )
    if UNSAFE_TEXT.search(note.replace("\n", "").replace("\t", "")):
        raise Rejection(
            "note.invalid",
            '"note" holds a control character other than line feed '
            "and tab, a lone surrogate or a noncharacter",
            category=Category.INVALID,
        )
    return EntryNote(entry_id=signed.id, actor=signed.actor, text=note, created_at=now)
