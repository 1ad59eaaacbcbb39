"""The organisation and key rules, each violation through the HTTP API."""

from __future__ import annotations

import pytest

from ledger.signing import KeyFile, SigningKey, b64
from tests.support import LedgerFixture


def org(org_id: str, org_type: str, parent: str | None, **codes: str) -> dict[str, object]:
    return {
        "id": org_id,
        "name": org_id,
        "type": org_type,
        "parent": parent,
        "public_keys": [b64(SigningKey.generate().public_key)],
        **codes,
    }


@pytest.fixture(scope="module")
async def tree(ledger: LedgerFixture) -> LedgerFixture:
    await ledger.register("county", "wenden-town", "township")
    await ledger.register("wenden-town", "houjia-village", "village_collective")
    return ledger


async def refused(
    ledger: LedgerFixture, key: KeyFile, kind: str, payload: dict, code: str, **kw: object
) -> None:
    before = await ledger.size()
    r = await ledger.submit(key, kind, payload, **kw)
    assert 400 <= r.status_code < 500 and r.json()["code"] == code, r.text
    assert await ledger.size() == before


async def test_second_root_refused(tree: LedgerFixture) -> None:
    await refused(
        tree,
        tree.keys["county"],
        "org.registered",
        org("county2", "county", None, area_code="371082"),
        "org.root_exists",
    )


async def test_already_registered(tree: LedgerFixture) -> None:
    await refused(
        tree,
        tree.keys["county"],
        "org.registered",
        org("wenden-town", "township", "county", area_code="371003777"),
        "org.already_registered",
    )


async def test_unknown_type(tree: LedgerFixture) -> None:
    await refused(
        tree, tree.keys["county"], "org.registered", org("p1", "palace", "county"), "org.unknown_type"
    )


async def test_unknown_parent(tree: LedgerFixture) -> None:
    await refused(
        tree,
        tree.keys["county"],
        "org.registered",
        org("p2", "township", "ghost", area_code="371003778"),
        "org.unknown_parent",
    )


async def test_only_the_parent_registers(tree: LedgerFixture) -> None:
    await refused(
        tree,
        tree.keys["county"],
        "org.registered",
        tree.org_payload("wenden-town", "p3", "village_collective"),
        "org.not_authorised",
    )


async def test_type_not_allowed_under_parent(tree: LedgerFixture) -> None:
    await refused(
        tree,
        tree.keys["wenden-town"],
        "org.registered",
        tree.org_payload("wenden-town", "p4", "developer"),
        "org.type_not_allowed",
    )


async def test_township_code_must_extend_county_code(tree: LedgerFixture) -> None:
    await refused(
        tree,
        tree.keys["county"],
        "org.registered",
        org("p5", "township", "county", area_code="371082101"),
        "org.invalid_code",
    )


async def test_township_without_code(tree: LedgerFixture) -> None:
    await refused(
        tree, tree.keys["county"], "org.registered", org("p6", "township", "county"), "org.invalid_code"
    )


async def test_village_credit_code_bad_check_digit(tree: LedgerFixture) -> None:
    payload = tree.org_payload("wenden-town", "p7", "village_collective")
    code = payload["credit_code"]
    payload["credit_code"] = code[:-1] + ("0" if code[-1] != "0" else "1")
    await refused(tree, tree.keys["wenden-town"], "org.registered", payload, "org.invalid_code")


async def test_village_credit_code_must_start_n2(tree: LedgerFixture) -> None:
    from tests.support import credit_code

    payload = tree.org_payload("wenden-town", "p8", "village_collective")
    payload["credit_code"] = credit_code("N3", "371003", 99)
    await refused(tree, tree.keys["wenden-town"], "org.registered", payload, "org.invalid_code")


async def test_area_code_taken(tree: LedgerFixture) -> None:
    payload = tree.org_payload("county", "p9", "township")
    payload["area_code"] = tree.codes["wenden-town"]
    await refused(tree, tree.keys["county"], "org.registered", payload, "org.code_taken")


async def test_key_registered_twice(tree: LedgerFixture) -> None:
    pub = b64(tree.keys["houjia-village"].key.public_key)
    await refused(
        tree, tree.keys["county"], "key.added", {"org": "county", "public_key": pub}, "key.already_registered"
    )


async def test_malformed_public_key(tree: LedgerFixture) -> None:
    await refused(
        tree, tree.keys["county"], "key.added", {"org": "county", "public_key": "!" * 44}, "key.malformed"
    )


async def test_village_cannot_manage_township_keys(tree: LedgerFixture) -> None:
    await refused(
        tree,
        tree.keys["houjia-village"],
        "key.added",
        {"org": "wenden-town", "public_key": b64(SigningKey.generate().public_key)},
        "org.not_authorised",
    )


async def test_ancestor_manages_keys_and_revocation_is_final(tree: LedgerFixture) -> None:
    new = KeyFile("houjia-village", SigningKey.generate())
    await tree.client.append(
        tree.keys["county"], "key.added", {"org": "houjia-village", "public_key": b64(new.key.public_key)}
    )
    await tree.client.append(new, "key.revoked", {"key_id": new.key.key_id, "reason": "superseded"})
    await refused(
        tree, tree.keys["wenden-town"], "key.revoked", {"key_id": new.key.key_id}, "key.already_revoked"
    )
    await refused(tree, tree.keys["county"], "key.revoked", {"key_id": "0" * 16}, "key.unknown")


async def test_key_for_unknown_org(tree: LedgerFixture) -> None:
    await refused(
        tree,
        tree.keys["county"],
        "key.added",
        {"org": "nowhere", "public_key": b64(SigningKey.generate().public_key)},
        "org.unknown",
    )
