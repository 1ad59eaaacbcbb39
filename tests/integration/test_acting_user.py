"""An entry may name the organisation's user who acted (the envelope's optional ``user``, a
pseudonymous UUID): the service records it as signed, a record page shows it, and an audit of
the log checks it like any other signed byte."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.integration.audit_support import bundle, verify
from tests.support import LedgerFixture

USER = str(uuid.UUID(int=0x5EED))


async def test_an_entry_names_its_acting_user_and_the_log_verifies(
    ledger: LedgerFixture, tmp_path: Path
) -> None:
    item = ledger.sign(
        ledger.keys["county"], "policy.set", {"numbers": {"membership_notice_days": 9}}, user=USER
    )
    receipt = await ledger.client.submit(item)
    record = await ledger.client.get(f"/v1/entries/{receipt['seq']}")
    assert record["entry"]["user"] == USER and record["entry"] == item["entry"]
    outcome = await verify(ledger, await bundle(ledger, tmp_path / "b"))
    assert outcome.status == "intact", outcome.as_json()


async def test_a_user_that_is_no_uuid_is_refused(ledger: LedgerFixture) -> None:
    size = await ledger.size()
    for user in ("clerk-1", "", 7):
        item = ledger.sign(ledger.keys["county"], "policy.set", {"numbers": {}}, user=user)
        r = await ledger.client.http.post("/v1/entries", json=item)
        assert (r.status_code, r.json()["code"]) == (400, "entry.malformed"), r.text
    assert await ledger.size() == size


async def test_the_user_cannot_be_added_after_signing(ledger: LedgerFixture) -> None:
    size = await ledger.size()
    item = ledger.sign(ledger.keys["county"], "policy.set", {"numbers": {}})
    item["entry"]["user"] = USER
    r = await ledger.client.http.post("/v1/entries", json=item)
    assert (r.status_code, r.json()["code"]) == (422, "signature.invalid"), r.text
    assert await ledger.size() == size
