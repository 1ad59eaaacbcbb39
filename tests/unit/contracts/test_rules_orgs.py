"""Organisations and keys (``org.registered``, ``key.added``, ``key.revoked``), in memory:
every refusal by its code, and the tree and key history the accepted entries build."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.orgs import Org, OrgKey
from ledger.signing import SigningKey, b64
from tests.support import credit_code
from tests.unit.contracts.harness import COUNTY, COUNTY_CODE, Harness


def fresh_key() -> str:
    return b64(SigningKey.generate().public_key)


def bare(org_id: str, org_type: str, parent: str | None, **codes: Any) -> dict[str, Any]:
    return {
        "id": org_id,
        "name": org_id,
        "type": org_type,
        "parent": parent,
        "public_keys": [fresh_key()],
        **codes,
    }


# Registering organisations


def test_the_county_registers_a_township_with_its_area_code(h: Harness) -> None:
    payload = h.org_payload(COUNTY, "wenden-town", "township")
    changes = h.submit(COUNTY, "org.registered", payload)
    town = changes.one(Org)
    assert (town.id, town.type, town.parent_id) == ("wenden-town", "township", COUNTY)
    assert town.area_code == payload["area_code"] and town.registered_seq == changes.seq
    [key] = changes.puts(OrgKey)
    assert key.org_id == "wenden-town" and key.added_seq == changes.seq and key.revoked_seq is None


def test_a_township_registers_its_village_collectives_and_an_exchange_center(h: Harness) -> None:
    town = h.township()
    village = h.collective(town)
    center = h.exchange_center(town)
    assert h.row(Org, village).parent_id == town
    assert (h.row(Org, village).credit_code or "").startswith("N2")
    assert h.row(Org, center).type == "exchange_center"
    assert h.row(Org, center).area_code is None


def test_the_county_registers_its_exchange_center_developers_and_housing_authority(h: Harness) -> None:
    for org_id in (h.exchange_center(), h.developer(), h.housing_authority()):
        assert h.row(Org, org_id).parent_id == COUNTY
    developers = [o for o in h.rows(Org) if o.type == "developer"]
    assert len(developers) == 1 and developers[0].credit_code is not None


def test_an_organisation_may_carry_several_keys(h: Harness) -> None:
    payload = h.org_payload(COUNTY, "two-keys", "township", public_keys=[fresh_key(), fresh_key()])
    assert len(h.submit(COUNTY, "org.registered", payload).puts(OrgKey)) == 2


def test_a_second_root(h: Harness) -> None:
    h.refused(
        "org.root_exists", COUNTY, "org.registered", bare("county2", "county", None, area_code="371082")
    )


def test_genesis_root_must_be_a_county() -> None:
    h = Harness(genesis=False)
    h.refused(
        "org.bad_root", COUNTY, "org.registered", h.root_payload(type="township", area_code="371003100")
    )


def test_genesis_root_acts_for_itself() -> None:
    h = Harness(genesis=False)
    h.refused("org.bad_root", "someone-else", "org.registered", h.root_payload(), key=h.keys[COUNTY])


def test_an_id_registered_twice(h: Harness) -> None:
    town = h.township()
    h.refused(
        "org.already_registered",
        COUNTY,
        "org.registered",
        bare(town, "township", COUNTY, area_code="371003777"),
    )


def test_an_unknown_type(h: Harness) -> None:
    h.refused("org.unknown_type", COUNTY, "org.registered", bare("palace", "palace", COUNTY))


def test_an_unknown_parent(h: Harness) -> None:
    h.refused(
        "org.unknown_parent", COUNTY, "org.registered", bare("p2", "township", "ghost", area_code="371003778")
    )


def test_only_the_parent_registers(h: Harness) -> None:
    town = h.township()
    h.refused("org.not_authorised", COUNTY, "org.registered", h.org_payload(town, "p3", "village_collective"))


@pytest.mark.parametrize(
    ("parent_type", "child_type"),
    [
        ("township", "developer"),
        ("township", "township"),
        ("township", "housing_authority"),
        ("county", "village_collective"),
        ("county", "county"),
        ("village_collective", "village_collective"),
        ("exchange_center", "township"),
    ],
)
def test_type_not_allowed_under_parent(h: Harness, parent_type: str, child_type: str) -> None:
    parent = {
        "county": lambda: COUNTY,
        "township": h.township,
        "village_collective": h.collective,
        "exchange_center": h.exchange_center,
    }[parent_type]()
    payload = h.org_payload(parent, "child", child_type)
    if child_type == "county":
        payload["area_code"] = "371082"
    h.refused("org.type_not_allowed", parent, "org.registered", payload)


def _bad_check_char(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


@pytest.mark.parametrize(
    "case",
    [
        "township_without_area_code",
        "township_code_of_another_county",
        "township_code_too_short",
        "township_code_not_digits",
        "village_code_not_under_its_township",
        "village_without_credit_code",
        "village_credit_code_bad_check_char",
        "village_credit_code_not_n2",
        "developer_without_credit_code",
        "developer_credit_code_malformed",
        "exchange_center_with_an_area_code",
        "housing_authority_with_an_area_code",
    ],
)
def test_invalid_codes(h: Harness, case: str) -> None:
    town = h.township()
    parent, payload = COUNTY, h.org_payload(COUNTY, "p", "township")
    if case == "township_without_area_code":
        del payload["area_code"]
    elif case == "township_code_of_another_county":
        payload["area_code"] = "371082101"
    elif case == "township_code_too_short":
        payload["area_code"] = "37100310"
    elif case == "township_code_not_digits":
        payload["area_code"] = "37100310A"
    elif case.startswith("village"):
        parent, payload = town, h.org_payload(town, "p", "village_collective")
        if case == "village_code_not_under_its_township":
            payload["area_code"] = "371003999001"
        elif case == "village_without_credit_code":
            del payload["credit_code"]
        elif case == "village_credit_code_bad_check_char":
            payload["credit_code"] = _bad_check_char(payload["credit_code"])
        else:
            payload["credit_code"] = credit_code("N3", COUNTY_CODE, 99)
    elif case.startswith("developer"):
        payload = h.org_payload(COUNTY, "p", "developer")
        if case == "developer_without_credit_code":
            del payload["credit_code"]
        else:
            payload["credit_code"] = "91-NOT-A-CODE"
    else:
        org_type = "exchange_center" if case.startswith("exchange") else "housing_authority"
        payload = h.org_payload(COUNTY, "p", org_type, area_code="371003555")
    h.refused("org.invalid_code", parent, "org.registered", payload)


def test_an_area_code_taken(h: Harness) -> None:
    town = h.township()
    payload = h.org_payload(COUNTY, "p9", "township", area_code=h.codes[town])
    h.refused("org.code_taken", COUNTY, "org.registered", payload)


def test_a_credit_code_taken(h: Harness) -> None:
    town = h.township()
    village = h.collective(town)
    payload = h.org_payload(town, "p10", "village_collective", credit_code=h.row(Org, village).credit_code)
    h.refused("org.code_taken", town, "org.registered", payload)


def test_a_key_listed_twice_in_one_registration(h: Harness) -> None:
    key = fresh_key()
    payload = h.org_payload(COUNTY, "twice", "township", public_keys=[key, key])
    h.refused("key.already_registered", COUNTY, "org.registered", payload)


def test_a_registration_with_another_organisations_key(h: Harness) -> None:
    payload = h.org_payload(COUNTY, "copycat", "township", public_keys=[b64(h.keys[COUNTY].key.public_key)])
    h.refused("key.already_registered", COUNTY, "org.registered", payload)


def test_a_registration_with_a_malformed_key(h: Harness) -> None:
    h.refused(
        "key.malformed",
        COUNTY,
        "org.registered",
        h.org_payload(COUNTY, "bad", "township", public_keys=["!" * 44]),
    )


def test_more_keys_than_one_entry_takes(h: Harness) -> None:
    payload = h.org_payload(COUNTY, "many", "township", public_keys=[fresh_key() for _ in range(9)])
    h.refused("payload.invalid", COUNTY, "org.registered", payload)


# Keys


def test_an_organisation_adds_its_own_key_and_signs_with_it(h: Harness) -> None:
    town = h.township()
    new = h.new_key(town)
    changes = h.submit(town, "key.added", {"org": town, "public_key": b64(new.key.public_key)})
    key = changes.one(OrgKey)
    assert key.key_id == new.key.key_id and key.org_id == town and key.added_seq == changes.seq
    h.submit(town, "key.added", {"org": town, "public_key": fresh_key()}, key=new)


def test_an_ancestor_manages_its_descendants_keys(h: Harness) -> None:
    town = h.township()
    village = h.collective(town)
    by_county = h.new_key(village)
    h.submit(COUNTY, "key.added", {"org": village, "public_key": b64(by_county.key.public_key)})
    h.submit(town, "key.revoked", {"key_id": by_county.key.key_id, "reason": "lost"})
    assert h.row(OrgKey, by_county.key.key_id).revoked_reason == "lost"


def test_a_key_added_twice(h: Harness) -> None:
    village = h.collective()
    h.refused(
        "key.already_registered",
        COUNTY,
        "key.added",
        {"org": COUNTY, "public_key": b64(h.keys[village].key.public_key)},
    )


def test_a_malformed_key_added(h: Harness) -> None:
    h.refused("key.malformed", COUNTY, "key.added", {"org": COUNTY, "public_key": "!" * 44})


def test_a_key_for_an_unknown_organisation(h: Harness) -> None:
    h.refused("org.unknown", COUNTY, "key.added", {"org": "nowhere", "public_key": fresh_key()})


def test_a_village_cannot_manage_its_townships_keys(h: Harness) -> None:
    town = h.township()
    village = h.collective(town)
    h.refused("org.not_authorised", village, "key.added", {"org": town, "public_key": fresh_key()})


def test_a_township_cannot_manage_a_sibling_townships_keys(h: Harness) -> None:
    a, b = h.township(), h.township()
    h.refused("org.not_authorised", a, "key.added", {"org": b, "public_key": fresh_key()})
    h.refused("org.not_authorised", a, "key.revoked", {"key_id": h.keys[b].key.key_id})


def test_a_village_cannot_revoke_the_countys_key(h: Harness) -> None:
    village = h.collective()
    h.refused("org.not_authorised", village, "key.revoked", {"key_id": h.keys[COUNTY].key.key_id})


def test_an_unknown_key_revoked(h: Harness) -> None:
    h.refused("key.unknown", COUNTY, "key.revoked", {"key_id": "0" * 16})


def test_revocation_is_final(h: Harness) -> None:
    town = h.township()
    village = h.collective(town)
    spare = h.new_key(village)
    h.submit(COUNTY, "key.added", {"org": village, "public_key": b64(spare.key.public_key)})
    changes = h.submit(
        village, "key.revoked", {"key_id": spare.key.key_id, "reason": "superseded"}, key=spare
    )
    revoked = changes.one(OrgKey)
    assert revoked.revoked_seq == changes.seq and revoked.revoked_reason == "superseded"
    h.refused("key.already_revoked", town, "key.revoked", {"key_id": spare.key.key_id})


def test_a_revoked_key_signs_nothing_after_its_revocation(h: Harness) -> None:
    village = h.collective()
    old = h.keys[village]
    new = h.new_key(village)
    h.submit(village, "key.added", {"org": village, "public_key": b64(new.key.public_key)})
    h.submit(village, "key.revoked", {"key_id": old.key.key_id, "reason": "compromised"})
    h.refused("signature.revoked_key", village, "party.registered", h.party_payload(h.new_person()), key=old)
    h.submit(village, "party.registered", h.party_payload(h.new_person()), key=new)


def test_a_revocation_reason_is_from_the_closed_list(h: Harness) -> None:
    village = h.collective()
    h.refused(
        "payload.invalid", COUNTY, "key.revoked", {"key_id": h.keys[village].key.key_id, "reason": "stolen"}
    )


def test_a_revocation_without_a_reason(h: Harness) -> None:
    village = h.collective()
    key = h.submit(COUNTY, "key.revoked", {"key_id": h.keys[village].key.key_id}).one(OrgKey)
    assert key.revoked_reason is None and key.revoked_seq is not None
