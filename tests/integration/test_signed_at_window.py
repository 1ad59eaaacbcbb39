"""An entry's ``signed_at`` must lie within a window around the ledger's clock when the entry is
first submitted (48 h before, 10 min after, by default); a stored entry is answered with its
receipt whatever its age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.client import check_receipt
from tests.conftest import FakeClock
from tests.support import LedgerFixture, township_payload

_serial = iter(range(600, 1000))


def township(org_id: str) -> dict[str, object]:
    return township_payload(org_id, f"{org_id}镇", next(_serial))


def now(ledger: LedgerFixture) -> datetime:
    return ledger.clock()


@pytest.mark.parametrize(
    ("label", "signed_at"),
    [
        ("1970", datetime(1970, 1, 1, tzinfo=UTC)),
        ("2999", datetime(2999, 12, 31, 23, 59, tzinfo=UTC)),
        ("49 h before", None),
        ("11 min after", None),
    ],
)
async def test_signed_at_outside_the_window_is_refused(
    ledger: LedgerFixture, label: str, signed_at: datetime | None
) -> None:
    if label == "49 h before":
        signed_at = now(ledger) - timedelta(hours=49)
    elif label == "11 min after":
        signed_at = now(ledger) + timedelta(minutes=11)
    item = ledger.sign(
        ledger.keys["county"], "org.registered", township(f"w{label[:2].strip()}x"), signed_at=signed_at
    )
    size = await ledger.size()
    r = await ledger.client.http.post("/v1/entries", json=item)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "entry.signed_at_out_of_window"
    assert await ledger.size() == size
    assert (await ledger.client.http.get(f"/v1/entries/by-id/{item['entry']['id']}")).status_code == 404


@pytest.mark.parametrize("offset", [timedelta(hours=-47), timedelta(minutes=9), timedelta(0)])
async def test_signed_at_inside_the_window_is_accepted(ledger: LedgerFixture, offset: timedelta) -> None:
    item = ledger.sign(
        ledger.keys["county"],
        "org.registered",
        township(f"in{int(offset.total_seconds()) % 997}"),
        signed_at=now(ledger) + offset,
    )
    receipt = await ledger.client.submit(item)
    check_receipt(receipt, ledger.verifier, ledger.origin)


async def test_only_the_entry_outside_the_window_is_refused_in_a_list(ledger: LedgerFixture) -> None:
    county = ledger.keys["county"]
    items = [
        ledger.sign(county, "org.registered", township("lista")),
        ledger.sign(county, "org.registered", township("listb"), signed_at=now(ledger) - timedelta(days=400)),
        ledger.sign(county, "org.registered", township("listc")),
    ]
    size = await ledger.size()
    results = await ledger.client.submit_many(items)
    assert results[1]["error"]["code"] == "entry.signed_at_out_of_window"
    assert [r["seq"] for r in (results[0], results[2])] == [size, size + 1]


async def test_a_stored_entry_is_answered_with_its_receipt_after_the_window(ledger: LedgerFixture) -> None:
    """Resubmission is idempotent whatever the entry's age: a client that never got its
    receipt (a crash, an outage) may ask again days later."""
    clock = ledger.clock
    assert isinstance(clock, FakeClock)
    item = ledger.sign(ledger.keys["county"], "org.registered", township("late"))
    first = await ledger.client.submit(item)
    clock.advance(days=5)
    size = await ledger.size()
    again = await ledger.client.submit(item)
    assert (again["seq"], again["leaf_hash"]) == (first["seq"], first["leaf_hash"])
    assert await ledger.size() == size
    # a new entry with the same old signing time is refused
    stale = ledger.sign(
        ledger.keys["county"], "org.registered", township("stale"), signed_at=clock() - timedelta(days=5)
    )
    r = await ledger.client.http.post("/v1/entries", json=stale)
    assert r.status_code == 422 and r.json()["code"] == "entry.signed_at_out_of_window"
