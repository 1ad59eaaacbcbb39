"""Admission before any rule runs: the genesis record, the signature against the key history,
the entry kind and the payload schema, each refusal by its code."""

from __future__ import annotations

import pytest

from ledger.signing import SigningKey
from tests.unit.contracts.harness import COUNTY, Harness


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_genesis_must_register_the_root() -> None:
    h = Harness(genesis=False)
    h.refused("ledger.bad_genesis", COUNTY, "policy.set", {"numbers": {}})


def test_genesis_root_has_no_parent() -> None:
    h = Harness(genesis=False)
    h.refused("ledger.bad_genesis", COUNTY, "org.registered", h.root_payload(parent="elsewhere"))


def test_genesis_is_signed_by_one_of_the_roots_own_keys() -> None:
    h = Harness(genesis=False)
    h.refused("signature.unknown_key", COUNTY, "org.registered", h.root_payload(), key=SigningKey.generate())


def test_an_unknown_entry_kind(h: Harness) -> None:
    h.refused("entry.unknown_kind", COUNTY, "land.annexed", {})


def test_a_key_the_ledger_never_registered(h: Harness) -> None:
    h.refused("signature.unknown_key", COUNTY, "policy.set", {"numbers": {}}, key=SigningKey.generate())


def test_a_key_signing_for_another_organisation(h: Harness) -> None:
    village = h.collective()
    h.refused("signature.key_not_actors", COUNTY, "policy.set", {"numbers": {}}, key=h.keys[village])


def test_a_signature_that_does_not_verify(h: Harness) -> None:
    record = h.sign(COUNTY, "policy.set", {"numbers": {}})
    record["entry"]["payload"]["numbers"] = {"membership_notice_days": 3}  # altered after signing
    h.refused_record("signature.invalid", record)


def test_an_entry_for_another_ledger(h: Harness) -> None:
    record = h.sign(COUNTY, "policy.set", {"numbers": {}})
    record["entry"]["ledger"] = "elsewhere.rural-ledger/weihai"
    h.refused_record("entry.wrong_ledger", record)


def test_a_payload_field_no_schema_knows(h: Harness) -> None:
    village = h.collective()
    payload = {**h.party_payload(h.new_person()), "name": "张三"}  # personal data never enters the log
    h.refused("payload.invalid", village, "party.registered", payload)


@pytest.mark.parametrize("text", ["a\x00b", "line\nbreak", "del\x7f", "\ufffe"])
def test_a_payload_string_with_unsafe_text(h: Harness, text: str) -> None:
    h.refused("payload.invalid", COUNTY, "policy.set", {"numbers": {text: 1}})


def test_records_are_admitted_in_seq_order(h: Harness) -> None:
    record = h.sign(COUNTY, "policy.set", {"numbers": {}})
    record["seq"] += 1
    with pytest.raises(ValueError, match="expected seq"):
        h.replay.apply(record)


def test_a_nul_in_an_organisations_name(h: Harness) -> None:
    h.refused(
        "payload.invalid",
        COUNTY,
        "org.registered",
        h.org_payload(COUNTY, "nul-town", "township", name="镇\x00"),
    )
