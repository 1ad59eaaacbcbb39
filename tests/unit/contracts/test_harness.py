"""The in-memory harness itself: its records are real signed records that any replay admits,
its clock is the records' ``recorded_at``, and a refusal leaves no trace."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.households import Household, HouseholdMember
from contracts.membership import Membership
from contracts.orgs import Org, OrgKey
from contracts.replay import Replay
from ledger.entry import format_time, parse_submission
from ledger.signing import entry_message, verify_signature
from tests.unit.contracts.harness import COUNTY, ORIGIN, START, Harness


def test_genesis_registers_the_county_with_its_own_key() -> None:
    h = Harness()
    assert h.size == 2  # genesis, then the current rule version's adoption
    assert h.records[1]["entry"]["kind"] == "rules.adopted"
    county = h.get(Org, COUNTY)
    assert county is not None and county.type == "county" and county.parent_id is None
    [key] = h.rows(OrgKey)
    assert key.org_id == COUNTY and key.key_id == h.keys[COUNTY].key.key_id and key.added_seq == 0


def test_records_are_signed_entries_of_this_ledger() -> None:
    h = Harness()
    village = h.collective()
    for record in h.records:
        signed = parse_submission({"entry": record["entry"], "sig": record["sig"]}, ORIGIN)
        public = h.keys[signed.actor].key.public_key
        assert verify_signature(public, signed.signature, entry_message(signed.entry_bytes))
    assert [r["seq"] for r in h.records] == list(range(h.size))
    assert h.records[-1]["entry"]["actor"] == h.parents[village]


def test_a_fresh_replay_of_the_records_rebuilds_the_same_state() -> None:
    h = Harness()
    village = h.collective()
    _, people = h.members(village, 3)
    h.submit(village, "member.status_changed", {"party": people[2], "reason": "death"})
    again = Replay(ORIGIN).apply_all(h.records)
    assert again.size == h.size
    for model, rows in h.replay.memory.tables.items():
        theirs = again.memory.tables.get(model, {})
        assert {k: r.model_dump() for k, r in rows.items()} == {k: r.model_dump() for k, r in theirs.items()}


def test_the_clock_stamps_recorded_at() -> None:
    h = Harness()
    assert h.records[0]["recorded_at"] == format_time(START)
    h.advance(days=8, hours=1)
    h.township()
    assert h.records[-1]["recorded_at"] == format_time(START + timedelta(days=8, hours=1))


def test_today_is_the_date_in_china_standard_time() -> None:
    h = Harness()
    h.clock.set(START.replace(hour=15, minute=59))
    assert h.today() == START.date()
    h.clock.set(START.replace(hour=16, minute=0))
    assert h.today() == START.date() + timedelta(days=1)


def test_submit_returns_what_the_record_changed() -> None:
    h = Harness()
    village = h.collective()
    household, people = h.household(village, 2)
    changes = h.admit(village, people[0], household)
    membership = changes.one(Membership)
    assert membership.status == "in_notice" and membership.admitted_seq == changes.seq
    changes = h.submit(
        village,
        "household.member_removed",
        {"household": household, "party": people[1], "reason": "moved_out"},
    )
    assert [m.party_id for m in changes.deleted(HouseholdMember)] == [people[1]]
    assert changes.puts(Household) == []


def test_refused_checks_the_code_and_that_nothing_changed() -> None:
    h = Harness()
    village = h.collective()
    h.refused("party.unknown", village, "member.admitted", h.admission(village, h.new_id()))
    with pytest.raises(AssertionError, match=r"not membership\.already_member"):
        h.refused("membership.already_member", village, "member.admitted", h.admission(village, h.new_id()))
    party = h.person(village)
    with pytest.raises(pytest.fail.Exception):
        h.refused("party.unknown", village, "member.admitted", h.admission(village, party))


def test_recorded_at_never_goes_backwards() -> None:
    h = Harness()
    h.advance(days=2)
    h.township()
    h.clock.set(START)
    h.township()
    assert (
        h.records[-1]["recorded_at"] == h.records[-2]["recorded_at"] == format_time(START + timedelta(days=2))
    )
