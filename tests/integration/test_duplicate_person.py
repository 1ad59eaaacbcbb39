"""A resident ID number registered twice: the existing party is named only to organisations
that govern that person (the registering one and those above it), never in the message."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from api.client import Person
from ledger.signing import KeyFile
from tests.registry_support import Village, new_person, village
from tests.support import LedgerFixture


@pytest.fixture(scope="module")
async def villages(ledger: LedgerFixture) -> tuple[Village, Village]:
    return (
        await village(ledger, "dupzhen", "dupzhen-dongcun"),
        await village(ledger, "otherzhen", "otherzhen-xicun"),
    )


async def register_twin(
    fx: LedgerFixture, key: KeyFile, person: Person, *, batch: bool = False
) -> tuple[int, dict[str, Any]]:
    twin = dataclasses.replace(person, party=new_person(random.Random()).party)
    item = await fx.client.person_entry(key, twin, clock=fx.clock)
    before = await fx.size()
    body = {"entries": [item]} if batch else item
    r = await fx.client.http.post("/v1/entries", json=body)
    assert await fx.size() == before
    problem = r.json()["results"][0]["error"] if batch else r.json()
    assert problem["code"] == "party.duplicate_person", r.text
    assert person.party not in problem["detail"]
    return r.status_code, problem


@pytest.mark.parametrize("batch", [False, True])
async def test_registering_collective_is_told_the_party(
    villages: tuple[Village, Village], batch: bool
) -> None:
    home, _ = villages
    person = await home.person()
    status, problem = await register_twin(home.fx, home.key, person, batch=batch)
    assert status == (200 if batch else 409)
    assert problem["existing_party"] == person.party


async def test_county_above_is_told_the_party(villages: tuple[Village, Village]) -> None:
    home, _ = villages
    person = await home.person()
    _, problem = await register_twin(home.fx, home.fx.keys["county"], person)
    assert problem["existing_party"] == person.party


@pytest.mark.parametrize("batch", [False, True])
async def test_other_village_is_not_told_the_party(villages: tuple[Village, Village], batch: bool) -> None:
    home, other = villages
    person = await home.person()
    status, problem = await register_twin(other.fx, other.key, person, batch=batch)
    assert status == (200 if batch else 409)
    assert "existing_party" not in problem
    assert person.party not in str(problem)


async def test_other_township_is_not_told_the_party(villages: tuple[Village, Village]) -> None:
    home, other = villages
    person = await home.person()
    _, problem = await register_twin(other.fx, other.fx.keys[other.township], person)
    assert "existing_party" not in problem
