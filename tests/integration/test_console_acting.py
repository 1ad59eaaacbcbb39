"""Acting for a console user (``api.console.acting.act``) through the running service's own
append path: the entry is signed with the organisation's held key and names the user; a double
submit of one form adds one record; a refusal names the payload field it concerns."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from api.client import check_receipt
from api.console.accounts import add_user
from api.console.acting import ActingUser, FormRefusal, act, field_of
from api.console.custody import Custody, CustodyError, KeyEncryptionKey
from api.service.database import asyncpg_url, make_engine
from api.service.service import LedgerService
from contracts.errors import RuleViolation
from ledger.canonical import canonical_bytes
from ledger.signing import KeyFile, SigningKey, b64, decode_b64, entry_message, verify_signature
from tests.support import LedgerFixture

KEK = KeyEncryptionKey(bytes(range(32)))
CUSTODY = Custody(KEK)


@dataclass(frozen=True)
class Clerk:
    """A console user as ``act`` needs one: the pseudonymous id and the organisation."""

    id: str
    org_id: str


def clerk_of(org: str) -> Clerk:
    return Clerk(str(uuid.uuid4()), org)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def engine(ledger: LedgerFixture) -> AsyncIterator[AsyncEngine]:
    e = make_engine(asyncpg_url(ledger.url))
    yield e
    await e.dispose()


async def hold(engine: AsyncEngine, key: KeyFile, custody: Custody = CUSTODY) -> None:
    async with engine.begin() as conn:
        await custody.store(conn, key.org, key, datetime.now(UTC))


async def acted(
    ledger: LedgerFixture,
    user: ActingUser,
    kind: str,
    payload: dict[str, Any],
    entry_id: str,
    custody: Custody = CUSTODY,
) -> dict[str, Any] | FormRefusal:
    """``act`` on the app's own service, on the app's event loop (the test client runs the
    app on a loop of its own, in a thread)."""
    http = ledger.client.http
    service: LedgerService = http.app.state.service  # type: ignore[attr-defined]
    call = partial(act, service, custody, user, kind, payload, entry_id)
    return await asyncio.to_thread(http.blocking_portal.call, call)  # type: ignore[attr-defined]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def township(ledger: LedgerFixture, engine: AsyncEngine) -> KeyFile:
    key = await ledger.register("county", "township-act", "township")
    await hold(engine, key)
    return key


def village_payload(ledger: LedgerFixture, org_id: str) -> dict[str, Any]:
    return ledger.org_payload("township-act", org_id, "village_collective")


async def test_an_act_is_signed_by_the_held_key_and_names_the_user(
    ledger: LedgerFixture, township: KeyFile
) -> None:
    user = clerk_of("township-act")
    size = await ledger.size()
    receipt = await acted(
        ledger, user, "org.registered", village_payload(ledger, "village-act-1"), str(uuid.uuid4())
    )
    assert not isinstance(receipt, FormRefusal), receipt
    assert receipt["seq"] == size and await ledger.size() == size + 1
    check_receipt(receipt, ledger.verifier, ledger.origin)
    record = await ledger.client.get(f"/v1/entries/{receipt['seq']}")
    entry = record["entry"]
    assert (entry["user"], entry["actor"], entry["key"]) == (user.id, "township-act", township.key.key_id)
    signature = decode_b64(record["sig"], size=64, what="sig")
    assert verify_signature(township.key.public_key, signature, entry_message(canonical_bytes(entry)))
    assert (await ledger.client.get("/v1/orgs/village-act-1"))["parent"] == "township-act"


async def test_a_console_account_acts_under_its_own_id(
    ledger: LedgerFixture, engine: AsyncEngine, township: KeyFile
) -> None:
    async with engine.connect() as conn:
        officer = await add_user(
            conn,
            "township-act",
            "township_officer",
            "officer.act",
            "correct horse battery",
            datetime.now(UTC),
        )
    receipt = await acted(
        ledger, officer, "org.registered", village_payload(ledger, "village-acct"), str(uuid.uuid4())
    )
    assert isinstance(receipt, dict), receipt
    entry = (await ledger.client.get(f"/v1/entries/{receipt['seq']}"))["entry"]
    assert (entry["user"], entry["actor"]) == (officer.id, "township-act")
    assert "officer.act" not in str(entry)  # the pseudonymous id, never the login name


async def test_a_double_submit_adds_one_record(ledger: LedgerFixture, township: KeyFile) -> None:
    user = clerk_of("township-act")
    entry_id = str(uuid.uuid4())
    payload = village_payload(ledger, "village-act-2")
    size = await ledger.size()
    first = await acted(ledger, user, "org.registered", payload, entry_id)
    ledger.clock.advance(seconds=3)  # type: ignore[attr-defined]
    second = await acted(ledger, user, "org.registered", payload, entry_id)
    assert isinstance(first, dict) and isinstance(second, dict), (first, second)
    assert second["seq"] == first["seq"] and second["leaf_hash"] == first["leaf_hash"]
    assert await ledger.size() == size + 1


async def test_a_double_click_at_once_adds_one_record(ledger: LedgerFixture, township: KeyFile) -> None:
    user = clerk_of("township-act")
    entry_id = str(uuid.uuid4())
    payload = village_payload(ledger, "village-act-3")
    size = await ledger.size()
    results = await asyncio.gather(
        *(acted(ledger, user, "org.registered", payload, entry_id) for _ in range(3))
    )
    assert all(isinstance(r, dict) for r in results), results
    assert {r["seq"] for r in results} == {size}  # type: ignore[index]
    assert await ledger.size() == size + 1


async def test_a_form_used_for_another_act_is_stale(ledger: LedgerFixture, township: KeyFile) -> None:
    user = clerk_of("township-act")
    entry_id = str(uuid.uuid4())
    first = await acted(ledger, user, "org.registered", village_payload(ledger, "village-act-4"), entry_id)
    assert isinstance(first, dict), first
    size = await ledger.size()
    for who, payload in (
        (user, village_payload(ledger, "village-act-5")),
        (clerk_of("township-act"), village_payload(ledger, "village-act-4")),
    ):
        refusal = await acted(ledger, who, "org.registered", payload, entry_id)
        assert isinstance(refusal, FormRefusal) and refusal.code == "console.form_stale", refusal
        assert f"seq {first['seq']}" in refusal.message
    for bad in ("", "not-a-uuid", entry_id.upper()):
        refusal = await acted(ledger, user, "org.registered", village_payload(ledger, "village-act-6"), bad)
        assert isinstance(refusal, FormRefusal) and refusal.code == "console.form_stale", refusal
    assert await ledger.size() == size


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        pytest.param({"parent": "township-nowhere"}, "org.unknown_parent", "parent", id="rule-code"),
        pytest.param({"type": "county"}, "org.type_not_allowed", "type", id="rule-code-type"),
        pytest.param({"id": "a village"}, "payload.invalid", "id", id="pattern"),
        pytest.param({"name": None}, "payload.invalid", "name", id="wrong-type"),
        pytest.param({"name": "村\x07"}, "payload.invalid", "name", id="control-character"),
        pytest.param({"public_keys": [7]}, "payload.invalid", "public_keys[0]", id="nested"),
        pytest.param({"area_code": "1"}, "org.invalid_code", None, id="no-field-to-tell"),
    ],
)
async def test_a_refusal_names_its_field(
    ledger: LedgerFixture, township: KeyFile, change: dict[str, Any], code: str, field: str | None
) -> None:
    payload = {**village_payload(ledger, f"village-ref-{uuid.uuid4().hex[:6]}"), **change}
    size = await ledger.size()
    refusal = await acted(ledger, clerk_of("township-act"), "org.registered", payload, str(uuid.uuid4()))
    assert isinstance(refusal, FormRefusal), refusal
    assert (refusal.code, refusal.field) == (code, field), refusal
    assert refusal.message
    assert await ledger.size() == size


async def test_a_missing_field_is_named(ledger: LedgerFixture, township: KeyFile) -> None:
    payload = village_payload(ledger, "village-ref-missing")
    del payload["name"]
    refusal = await acted(ledger, clerk_of("township-act"), "org.registered", payload, str(uuid.uuid4()))
    assert isinstance(refusal, FormRefusal) and (refusal.code, refusal.field) == ("payload.invalid", "name")


def test_field_of_reads_nested_paths_and_missing_fields() -> None:
    def refused(message: str) -> RuleViolation:
        return RuleViolation("payload.invalid", f"household.registered payload: {message}")

    assert (
        field_of("x.y", refused("Object missing required field `party` - at `$.members[1]`"))
        == "members[1].party"
    )
    assert (
        field_of("x.y", refused("Expected `str`, got `int` - at `$.members[0].relation`"))
        == "members[0].relation"
    )
    assert field_of("x.y", refused("Object contains unknown field `zz`")) is None
    assert field_of("household.registered", RuleViolation("household.head_not_member", "m")) == "head"
    assert field_of("household.registered", RuleViolation("household.unknown_code", "m")) is None
    personal = "personal fields: Expected `str`, got `int` - at `$.name`"
    assert field_of("party.registered", RuleViolation("personal.invalid", personal)) == "personal.name"
    missing = "personal fields: Object missing required field `salt`"
    assert field_of("party.registered", RuleViolation("personal.invalid", missing)) == "personal.salt"
    assert field_of("party.registered", RuleViolation("party.duplicate_person", "m")) == "personal.id_number"


async def test_a_user_acts_only_with_their_own_organisations_key(
    ledger: LedgerFixture, engine: AsyncEngine, township: KeyFile
) -> None:
    await ledger.register("county", "township-keyless", "township")
    size = await ledger.size()
    refusal = await acted(
        ledger,
        clerk_of("township-keyless"),
        "org.registered",
        ledger.org_payload("township-keyless", "village-keyless", "village_collective"),
        str(uuid.uuid4()),
    )
    assert isinstance(refusal, FormRefusal) and refusal.code == "console.no_key", refusal
    # Acting for another organisation's parent is refused by the ledger: the entry is signed as
    # the user's own organisation, never as the one the payload names.
    refusal = await acted(
        ledger,
        clerk_of("township-act"),
        "org.registered",
        ledger.org_payload("township-keyless", "village-other", "village_collective"),
        str(uuid.uuid4()),
    )
    assert isinstance(refusal, FormRefusal) and (refusal.code, refusal.field) == (
        "org.not_authorised",
        "parent",
    )
    assert await ledger.size() == size


async def test_a_revoked_key_is_not_used(ledger: LedgerFixture, engine: AsyncEngine) -> None:
    first = await ledger.register("county", "township-act-rev", "township")
    await hold(engine, first)
    second = KeyFile("township-act-rev", SigningKey.generate())
    await hold(engine, second)
    await ledger.client.append(
        first, "key.added", {"org": "township-act-rev", "public_key": b64(second.key.public_key)}
    )
    user = clerk_of("township-act-rev")
    receipt = await acted(
        ledger,
        user,
        "org.registered",
        ledger.org_payload("township-act-rev", "village-rev-1", "village_collective"),
        str(uuid.uuid4()),
    )
    assert isinstance(receipt, dict), receipt
    assert (await ledger.client.get(f"/v1/entries/{receipt['seq']}"))["entry"]["key"] == second.key.key_id
    await ledger.client.append(first, "key.revoked", {"key_id": second.key.key_id, "reason": "compromised"})
    receipt = await acted(
        ledger,
        user,
        "org.registered",
        ledger.org_payload("township-act-rev", "village-rev-2", "village_collective"),
        str(uuid.uuid4()),
    )
    assert isinstance(receipt, dict), receipt
    assert (await ledger.client.get(f"/v1/entries/{receipt['seq']}"))["entry"]["key"] == first.key.key_id
    await ledger.client.append(
        ledger.keys["county"], "key.revoked", {"key_id": first.key.key_id, "reason": "retired"}
    )
    refusal = await acted(
        ledger,
        user,
        "org.registered",
        ledger.org_payload("township-act-rev", "village-rev-3", "village_collective"),
        str(uuid.uuid4()),
    )
    assert isinstance(refusal, FormRefusal) and refusal.code == "console.no_key", refusal


async def test_a_wrong_kek_is_raised_not_refused(ledger: LedgerFixture, township: KeyFile) -> None:
    size = await ledger.size()
    with pytest.raises(CustodyError) as e:
        await acted(
            ledger,
            clerk_of("township-act"),
            "org.registered",
            village_payload(ledger, "village-kek"),
            str(uuid.uuid4()),
            Custody(KeyEncryptionKey.generate()),
        )
    assert e.value.code == "console.kek_mismatch"
    assert await ledger.size() == size
