"""Settlement certificates through the HTTP API, and replay of the whole registry."""

from __future__ import annotations

import pytest

from tests.integration.registry_checks import refused
from tests.registry_support import Village, village
from tests.replay_check import assert_replay_matches_projections
from tests.support import LedgerFixture, credit_code


@pytest.fixture(scope="module")
async def v(ledger: LedgerFixture) -> Village:
    return await village(ledger, "qiaotou", "qiaotou-nancun")


async def settled_household(v: Village, size: int = 3) -> tuple[str, list[str], dict]:
    household, people = await v.members(size)
    contract_id = f"C-{household[:8]}"
    await v.append(
        "land.contract_issued",
        {
            "contract": contract_id,
            "household": household,
            "certificate_no": contract_id,
            "term_start": "2018-01-01",
            "term_end": "2047-12-31",
            "parcels": [
                {
                    "code": v.parcel(int(household[:6], 16) % 10**7),
                    "area_m2": 6670,
                    "land_class": "arable",
                    "boundaries": {"east": "road", "south": "ditch", "west": "hill", "north": "river"},
                }
            ],
        },
    )
    return household, [p.party for p in people], {"land_contracts": [contract_id], "homesteads": []}


def filing(
    v: Village,
    cert: str,
    household: str,
    persons: list[str],
    rights: dict,
    basis: str,
    scope: str = "household",
) -> dict:
    return {
        "certificate": cert,
        "village": v.village,
        "scope": scope,
        "household": household,
        "persons": persons,
        "membership_certificate": basis,
        "rights": rights,
    }


async def test_whole_household_certificate_must_list_every_member(v: Village, ledger: LedgerFixture) -> None:
    household, persons, rights = await settled_household(v)
    await v.append(
        "certificate.membership_issued",
        {"certificate": "MC-A", "household": household, "persons": persons, "rights": rights},
    )
    township = ledger.keys[v.township]
    body = await refused(
        v,
        "certificate.transfer_filed",
        filing(v, "TF-A", household, persons[:2], rights, "MC-A"),
        "certificate.household_incomplete",
        key=township,
    )
    assert persons[2] in body["detail"]
    await v.append(
        "certificate.transfer_filed", filing(v, "TF-A", household, persons, rights, "MC-A"), key=township
    )
    party = await ledger.client.get(f"/v1/parties/{persons[0]}")
    assert party["membership"]["status"] == "settled_in_town"
    # Rights stay enforceable: the settled household may still lease its land.
    await v.append(
        "land.management_transferred",
        {
            "transfer": "T-after-settling",
            "contract": rights["land_contracts"][0],
            "mode": "lease",
            "transferee": {
                "type": "entity",
                "name": "南村果蔬专业合作社",
                "credit_code": credit_code("93", "371003", 2),
            },
            "parcels": [v.parcel(int(household[:6], 16) % 10**7)],
            "term_start": "2026-04-01",
            "term_end": "2036-03-31",
            "agricultural_use": True,
            "written_contract": "0" * 64,
            "household_consent": "1" * 64,
        },
    )


async def test_township_outside_its_jurisdiction(v: Village, ledger: LedgerFixture) -> None:
    household, persons, rights = await settled_household(v)
    await v.append(
        "certificate.membership_issued",
        {"certificate": "MC-B", "household": household, "persons": persons, "rights": rights},
    )
    await ledger.register("county", "other-town", "township")
    await refused(
        v,
        "certificate.transfer_filed",
        filing(v, "TF-B", household, persons, rights, "MC-B"),
        "certificate.outside_jurisdiction",
        key=ledger.keys["other-town"],
    )


async def test_only_a_township_files_transfers(v: Village) -> None:
    household, persons, rights = await settled_household(v)
    await refused(
        v,
        "certificate.transfer_filed",
        filing(v, "TF-C", household, persons, rights, "MC-none"),
        "certificate.not_a_township",
    )


async def test_rights_listed_must_be_held(v: Village, ledger: LedgerFixture) -> None:
    household, persons, _ = await settled_household(v)
    await refused(
        v,
        "certificate.membership_issued",
        {
            "certificate": "MC-D",
            "household": household,
            "persons": persons,
            "rights": {"land_contracts": [], "homesteads": ["H-invented"]},
        },
        "certificate.rights_mismatch",
    )


async def test_membership_certificate_expires(v: Village, ledger: LedgerFixture) -> None:
    household, persons, rights = await settled_household(v)
    await v.append(
        "certificate.membership_issued",
        {"certificate": "MC-E", "household": household, "persons": persons, "rights": rights},
    )
    ledger.clock.advance(days=181)  # type: ignore[attr-defined]
    await refused(
        v,
        "certificate.transfer_filed",
        filing(v, "TF-E", household, persons, rights, "MC-E"),
        "certificate.membership_certificate_expired",
        key=ledger.keys[v.township],
    )


async def test_individual_certificate(v: Village, ledger: LedgerFixture) -> None:
    household, persons, rights = await settled_household(v)
    await v.append(
        "certificate.membership_issued",
        {"certificate": "MC-F", "household": household, "persons": persons[:1], "rights": rights},
    )
    township = ledger.keys[v.township]
    await refused(
        v,
        "certificate.transfer_filed",
        filing(v, "TF-F", household, persons[:2], rights, "MC-F", "individual"),
        "certificate.individual_is_one_person",
        key=township,
    )
    await refused(
        v,
        "certificate.transfer_filed",
        filing(v, "TF-F", household, persons[1:2], rights, "MC-F", "individual"),
        "certificate.persons_not_certified",
        key=township,
    )
    await refused(
        v,
        "certificate.transfer_filed",
        filing(v, "TF-F", household, persons[:1], rights, "MC-nope", "individual"),
        "certificate.no_membership_certificate",
        key=township,
    )
    await v.append(
        "certificate.transfer_filed",
        filing(v, "TF-F", household, persons[:1], rights, "MC-F", "individual"),
        key=township,
    )
    await refused(
        v,
        "certificate.transfer_filed",
        filing(v, "TF-F", household, persons[:1], rights, "MC-F", "individual"),
        "certificate.exists",
        key=township,
    )
    await refused(
        v,
        "certificate.transfer_filed",
        filing(v, "TF-G", household, persons[:1], rights, "MC-F", "individual"),
        "certificate.not_a_member",
        key=township,
    )


async def test_certificate_for_a_person_not_in_the_household(v: Village) -> None:
    household, _, rights = await settled_household(v)
    stranger = await v.person()
    await refused(
        v,
        "certificate.membership_issued",
        {"certificate": "MC-H", "household": household, "persons": [stranger.party], "rights": rights},
        "household.not_a_member",
    )


async def test_certificate_for_an_unconfirmed_member(v: Village) -> None:
    household, people = await v.household(1)
    await v.admit(people[0].party, household)
    await refused(
        v,
        "certificate.membership_issued",
        {
            "certificate": "MC-I",
            "household": household,
            "persons": [people[0].party],
            "rights": {"land_contracts": [], "homesteads": []},
        },
        "certificate.not_a_member",
    )


async def test_person_listed_twice_on_a_certificate(v: Village) -> None:
    household, persons, rights = await settled_household(v)
    await refused(
        v,
        "certificate.membership_issued",
        {
            "certificate": "MC-J",
            "household": household,
            "persons": [persons[0], persons[0]],
            "rights": rights,
        },
        "certificate.duplicate_person",
    )


async def test_replay_rebuilds_every_registry_table(v: Village, ledger: LedgerFixture) -> None:
    """Run last in this module: the ledger now holds every kind of registry record."""
    filled = await assert_replay_matches_projections(ledger.url, ledger.origin)
    assert len(filled) >= 10, filled
