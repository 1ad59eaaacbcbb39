"""The organisation and key rules, each violation through the HTTP API."""

from __future__ import annotations

import pytest

from ledger.signing import KeyFile, SigningKey, b64
from tests.support import LedgerFixture


def org(org_id: str, org_type: str, parent: str | None) -> dict[str, object]:
    return {"id": org_id, "name": org_id, "type": org_type, "parent": parent,
            "public_keys": [b64(SigningKey.generate().public_key)]}


@pytest.fixture(scope="module")
async def tree(ledger: LedgerFixture) -> LedgerFixture:
    await ledger.register("county", "wenden-town", "township")
    await ledger.register("wenden-town", "houjia-village", "village_collective")
    return ledger


async def refused(ledger: LedgerFixture, key: KeyFile, kind: str, payload: dict, code: str,
                  **kw: object) -> None:
    before = await ledger.size()
    r = await ledger.submit(key, kind, payload, **kw)
    assert 400 <= r.status_code < 500 and r.json()["code"] == code, r.text
    assert await ledger.size() == before


async def test_second_root_refused(tree: LedgerFixture) -> None:
    await refused(tree, tree.keys["county"], "org.registered", org("county2", "county", None),
                  "org.root_exists")


async def test_already_registered(tree: LedgerFixture) -> None:
    await refused(tree, tree.keys["county"], "org.registered",
                  org("wenden-town", "township", "county"), "org.already_registered")


async def test_unknown_type(tree: LedgerFixture) -> None:
    await refused(tree, tree.keys["county"], "org.registered", org("p1", "palace", "county"),
                  "org.unknown_type")


async def test_unknown_parent(tree: LedgerFixture) -> None:
    await refused(tree, tree.keys["county"], "org.registered", org("p2", "township", "ghost"),
                  "org.unknown_parent")


async def test_only_the_parent_registers(tree: LedgerFixture) -> None:
    await refused(tree, tree.keys["county"], "org.registered",
                  org("p3", "village_collective", "wenden-town"), "org.not_authorised")


async def test_type_not_allowed_under_parent(tree: LedgerFixture) -> None:
    await refused(tree, tree.keys["wenden-town"], "org.registered",
                  org("p4", "developer", "wenden-town"), "org.type_not_allowed")


async def test_key_registered_twice(tree: LedgerFixture) -> None:
    pub = b64(tree.keys["houjia-village"].key.public_key)
    await refused(tree, tree.keys["county"], "key.added", {"org": "county", "public_key": pub},
                  "key.already_registered")


async def test_malformed_public_key(tree: LedgerFixture) -> None:
    await refused(tree, tree.keys["county"], "key.added",
                  {"org": "county", "public_key": "!" * 44}, "key.malformed")


async def test_village_cannot_manage_township_keys(tree: LedgerFixture) -> None:
    await refused(tree, tree.keys["houjia-village"], "key.added",
                  {"org": "wenden-town", "public_key": b64(SigningKey.generate().public_key)},
                  "org.not_authorised")


async def test_ancestor_manages_keys_and_revocation_is_final(tree: LedgerFixture) -> None:
    new = KeyFile("houjia-village", SigningKey.generate())
    await tree.client.append(tree.keys["county"], "key.added",
                             {"org": "houjia-village", "public_key": b64(new.key.public_key)})
    await tree.client.append(new, "key.revoked", {"key_id": new.key.key_id, "reason": "self"})
    await refused(tree, tree.keys["wenden-town"], "key.revoked", {"key_id": new.key.key_id},
                  "key.already_revoked")
    await refused(tree, tree.keys["county"], "key.revoked", {"key_id": "0" * 16}, "key.unknown")
