"""Parties, their erasable personal data, and the free-text notes beside entries."""

from __future__ import annotations

from datetime import date

import msgspec


class RegisteredParty(msgspec.Struct, forbid_unknown_fields=True):
    """A person as the ledger knows them: a UUID and the commitment to their personal fields."""

    id: str
    commitment: str
    registered_by: str
    registered_seq: int


class PartyMembership(msgspec.Struct, forbid_unknown_fields=True):
    collective: str
    status: str


class Party(RegisteredParty):
    """A party and their membership (null: none); no personal data."""

    membership: PartyMembership | None


class PersonalData(msgspec.Struct, forbid_unknown_fields=True):
    """A person's personal fields and the salt of their commitment, which they open."""

    party: str
    name: str
    id_number: str
    sex: str
    birth_date: date
    phone: str
    salt: str
    commitment: str


class PersonalDataErased(msgspec.Struct, forbid_unknown_fields=True):
    """Whether there was personal data to erase (false: already erased)."""

    party: str
    erased: bool


class BlindIndex(msgspec.Struct, forbid_unknown_fields=True):
    """This ledger's keyed blind index of a resident ID number (HMAC-SHA256, hex)."""

    blind_index: str


class EntryNote(msgspec.Struct, forbid_unknown_fields=True):
    """An entry's free-text note, never part of the ledger."""

    entry: str
    actor: str
    note: str
    created_at: str


class EntryNoteErased(msgspec.Struct, forbid_unknown_fields=True):
    entry: str
    erased: bool
