"""Persons (``party.registered``), in memory: a UUID, a commitment and a keyed blind index,
one party per resident ID number, and no personal data in the log."""

from __future__ import annotations

import dataclasses

import pytest

from contracts.parties import DuplicatePerson, Party, PartyIdentity
from tests.unit.contracts.harness import Harness


def test_a_person_is_registered_by_commitment_and_blind_index(h: Harness) -> None:
    village = h.collective()
    person = h.new_person()
    payload = h.party_payload(person)
    changes = h.submit(village, "party.registered", payload)
    party = changes.one(Party)
    assert (party.id, party.commitment) == (person.party, payload["commitment"])
    assert party.registered_by == village and party.registered_seq == changes.seq
    assert changes.one(PartyIdentity).party_id == person.party
    text = repr(h.records[-1])
    assert person.name not in text and person.id_number not in text and person.phone not in text


def test_a_party_id_used_twice(h: Harness) -> None:
    village = h.collective()
    first = h.person(village)
    other = dataclasses.replace(h.new_person(), party=first)
    h.refused("party.already_registered", village, "party.registered", h.party_payload(other))


def test_the_same_resident_id_as_another_party(h: Harness) -> None:
    village = h.collective()
    person = h.new_person()
    h.person(village, person)
    twin = dataclasses.replace(person, party=h.new_id(), name="张冒名")
    refusal = h.refused("party.duplicate_person", village, "party.registered", h.party_payload(twin))
    assert isinstance(refusal, DuplicatePerson) and refusal.existing_party == person.party
    assert person.party not in refusal.message  # the message never names the existing party


def test_the_same_resident_id_registered_by_another_village(h: Harness) -> None:
    person = h.new_person()
    h.person(h.collective(), person)
    twin = dataclasses.replace(person, party=h.new_id())
    h.refused("party.duplicate_person", h.collective(), "party.registered", h.party_payload(twin))


def test_a_resident_id_is_normalised_before_its_blind_index(h: Harness) -> None:
    village = h.collective()
    person = h.new_person()
    h.person(village, person)
    spaced = dataclasses.replace(person, party=h.new_id(), id_number=f" {person.id_number.lower()} ")
    h.refused("party.duplicate_person", village, "party.registered", h.party_payload(spaced))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("party", "not-a-uuid"),
        ("party", "00000000-0000-4000-8000-00000000000G"),
        ("commitment", "0" * 63),
        ("commitment", "A" * 64),
        ("blind_index", "11010519491231002X"),  # an ID number in clear is not a blind index
    ],
)
def test_a_malformed_field(h: Harness, field: str, value: str) -> None:
    village = h.collective()
    payload = {**h.party_payload(h.new_person()), field: value}
    h.refused("payload.invalid", village, "party.registered", payload)


@pytest.mark.parametrize("field", ["name", "id_number", "phone"])
def test_personal_fields_never_enter_the_log(h: Harness, field: str) -> None:
    village = h.collective()
    person = h.new_person()
    payload = {**h.party_payload(person), field: person.fields()[field]}
    h.refused("payload.invalid", village, "party.registered", payload)


def test_acts_on_an_unregistered_person(h: Harness) -> None:
    village = h.collective()
    stranger = h.new_id()
    h.refused("party.unknown", village, "member.admitted", h.admission(village, stranger))
    h.refused("party.unknown", village, "household.registered", h.household_payload(stranger, [stranger]))
