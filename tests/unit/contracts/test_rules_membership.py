"""Collective membership (admission, notice, objections, confirmation, ending), in memory:
each refusal by its code, the statuses the accepted entries lead through, and the notice
period counted in China Standard Time on the ledger's clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.membership import ENDING_REASONS, NOT_A_LOSS, Membership
from tests.unit.contracts.harness import COUNTY, DOC, Harness


def status(h: Harness, party: str) -> str:
    return h.row(Membership, party).status


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC instant of ``hour:minute`` on ``day`` in China Standard Time."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC) - timedelta(hours=8)


# Admission


def test_admission_opens_the_notice_period(h: Harness, village: str) -> None:
    household, people = h.household(village, 1)
    payload = h.admission(village, people[0], household, basis="marriage")
    changes = h.submit(village, "member.admitted", payload)
    m = changes.one(Membership)
    assert (m.collective_id, m.household_id, m.status, m.basis) == (
        village,
        household,
        "in_notice",
        "marriage",
    )
    assert m.notice_end == date.fromisoformat(payload["decision"]["notice_end"])
    assert m.admitted_seq == m.status_seq == changes.seq and m.ended_reason is None


def test_admission_without_a_household(h: Harness, village: str) -> None:
    party = h.person(village)
    assert h.admit(village, party).one(Membership).household_id is None


def test_only_a_collective_admits(h: Harness, village: str) -> None:
    party = h.person(village)
    township = h.parents[village]
    assert township is not None
    h.refused("org.not_a_collective", township, "member.admitted", h.admission(village, party))
    h.refused("org.not_a_collective", COUNTY, "member.admitted", h.admission(village, party))


def test_an_unregistered_person(h: Harness, village: str) -> None:
    h.refused("party.unknown", village, "member.admitted", h.admission(village, h.new_id()))


def test_one_person_one_collective(h: Harness, village: str) -> None:
    _, people = h.members(village, 1)
    other = h.collective()
    refusal = h.refused("membership.already_member", other, "member.admitted", h.admission(other, people[0]))
    assert village in refusal.message


@pytest.mark.parametrize("state", ["in_notice", "suspended", "active"])
def test_admitted_twice_by_the_same_collective(h: Harness, village: str, state: str) -> None:
    party = h.person(village)
    h.admit(village, party)
    if state == "suspended":
        h.submit(village, "member.objection_filed", {"party": party, "objection": DOC})
    if state == "active":
        h.advance(days=8)
        h.confirm(village, party)
    h.refused("membership.already_member", village, "member.admitted", h.admission(village, party))


def test_a_person_whose_membership_ended_by_joining_another_collective_is_admitted_there(
    h: Harness, village: str
) -> None:
    _, people = h.members(village, 1)
    h.submit(village, "member.status_changed", {"party": people[0], "reason": "joined_other_collective"})
    other = h.collective()
    assert h.admit(other, people[0]).one(Membership).collective_id == other


def test_a_rejected_person_may_be_admitted_again(h: Harness, village: str) -> None:
    party = h.person(village)
    h.admit(village, party)
    h.submit(village, "member.objection_filed", {"party": party, "objection": DOC})
    h.submit(village, "member.objection_resolved", {"party": party, "upheld": True, "decision": DOC})
    assert status(h, party) == "rejected"
    assert h.admit(village, party).one(Membership).status == "in_notice"


def test_admission_into_an_unknown_household(h: Harness, village: str) -> None:
    party = h.person(village)
    h.refused("household.unknown", village, "member.admitted", h.admission(village, party, h.new_id()))


def test_admission_into_another_collectives_household(h: Harness, village: str) -> None:
    other = h.collective()
    household, people = h.household(other, 1)
    h.refused(
        "household.other_collective", village, "member.admitted", h.admission(village, people[0], household)
    )


def test_admission_into_a_household_the_person_is_not_in(h: Harness, village: str) -> None:
    household, _ = h.household(village, 2)
    stranger = h.person(village)
    h.refused("household.not_a_member", village, "member.admitted", h.admission(village, stranger, household))


@pytest.mark.parametrize(
    "over",
    [
        {"basis": "purchase"},
        {"decision": {"meeting": "village_party_committee"}},
        {"decision": {"eligible": 0}},
        {"decision": {"evidence": ["0" * 64] * 33}},
        {"decision": {"notice_end": "2026-02-30"}},
    ],
    ids=repr,
)
def test_a_malformed_admission(h: Harness, village: str, over: dict[str, Any]) -> None:
    payload = h.admission(village, h.person(village))
    for key, value in over.items():
        payload[key] = {**payload[key], **value} if isinstance(value, dict) else value
    h.refused("payload.invalid", village, "member.admitted", payload)


# The decision


def test_vote_counts_must_add_up(h: Harness, village: str) -> None:
    party = h.person(village)
    decisions: list[dict[str, Any]] = [
        {"votes_for": 51, "attendance": 50},
        {"attendance": 61, "eligible": 60},
    ]
    for decision in decisions:
        h.refused(
            "membership.bad_vote_count", village, "member.admitted", h.admission(village, party, **decision)
        )


def test_a_representatives_meeting_needs_two_thirds_attending(h: Harness, village: str) -> None:
    party = h.person(village)
    meeting: dict[str, Any] = {"meeting": "representatives_meeting", "eligible": 30}
    h.refused(
        "membership.quorum_not_met",
        village,
        "member.admitted",
        h.admission(village, party, attendance=19, votes_for=19, **meeting),
    )
    h.admit(village, party, attendance=20, votes_for=11, **meeting)


def test_a_plain_case_needs_more_than_half_of_those_present(h: Harness, village: str) -> None:
    party = h.person(village)
    h.refused(
        "membership.votes_insufficient",
        village,
        "member.admitted",
        h.admission(village, party, votes_for=25, attendance=50),
    )
    h.admit(village, party, votes_for=26, attendance=50)


def test_a_contested_case_needs_two_thirds_of_those_present(h: Harness, village: str) -> None:
    party = h.person(village)
    h.refused(
        "membership.votes_insufficient",
        village,
        "member.admitted",
        h.admission(village, party, contested=True, votes_for=33, attendance=50),
    )
    h.admit(village, party, contested=True, votes_for=20, attendance=30)


def test_a_contested_case_with_nobody_present_is_not_decided(h: Harness, village: str) -> None:
    """Rule version 2: a meeting nobody attended decides nothing."""
    party = h.person(village)
    h.refused(
        "membership.quorum_not_met",
        village,
        "member.admitted",
        h.admission(village, party, contested=True, votes_for=0, attendance=0),
    )


def test_version_1_admitted_a_contested_case_with_nobody_present() -> None:
    """Under version 1 such a decision passed (0 >= 2/3 of 0): a log written then still
    replays, so version 1 keeps accepting it."""
    h = Harness(rules_version=None)
    village = h.collective()
    party = h.person(village)
    h.submit(
        village, "member.admitted", h.admission(village, party, contested=True, votes_for=0, attendance=0)
    )


def test_the_notice_runs_at_least_seven_days(h: Harness, village: str) -> None:
    party = h.person(village)
    h.refused(
        "membership.notice_too_short", village, "member.admitted", h.admission(village, party, notice_days=6)
    )
    h.admit(village, party, notice_days=7)


def test_the_notice_period_is_the_countys_policy(h: Harness, village: str) -> None:
    party = h.person(village)
    h.set_policy(membership_notice_days=10)
    h.refused(
        "membership.notice_too_short", village, "member.admitted", h.admission(village, party, notice_days=9)
    )
    h.admit(village, party, notice_days=10)


def expected_refusal(
    eligible: int, attendance: int, votes: int, contested: bool, meeting: str, notice: int
) -> str | None:
    """The decision rules of DOMAIN.md, stated with fractions."""
    if not votes <= attendance <= eligible:
        return "membership.bad_vote_count"
    if meeting == "representatives_meeting" and Fraction(attendance, eligible) < Fraction(2, 3):
        return "membership.quorum_not_met"
    share = Fraction(votes, attendance)
    if (share < Fraction(2, 3)) if contested else (share <= Fraction(1, 2)):
        return "membership.votes_insufficient"
    if notice < 7:
        return "membership.notice_too_short"
    return None


@settings(max_examples=60)
@given(
    eligible=st.integers(1, 120),
    attendance=st.integers(1, 130),
    votes=st.integers(0, 130),
    contested=st.booleans(),
    meeting=st.sampled_from(["members_assembly", "representatives_meeting"]),
    notice=st.integers(0, 10),
)
def test_a_decision_is_accepted_exactly_when_the_rules_hold(
    eligible: int, attendance: int, votes: int, contested: bool, meeting: str, notice: int
) -> None:
    h = Harness()
    village = h.collective()
    party = h.person(village)
    decision: dict[str, Any] = {
        "eligible": eligible,
        "attendance": attendance,
        "votes_for": votes,
        "contested": contested,
        "meeting": meeting,
        "notice_days": notice,
    }
    code = expected_refusal(eligible, attendance, votes, contested, meeting, notice)
    if code is None:
        assert h.admit(village, party, **decision).one(Membership).status == "in_notice"
    else:
        h.refused(code, village, "member.admitted", h.admission(village, party, **decision))


# Notice, objections, confirmation


def admitted(h: Harness, village: str) -> tuple[str, date]:
    party = h.person(village)
    return party, h.admit(village, party).one(Membership).notice_end


def test_confirmation_after_the_notice(h: Harness, village: str) -> None:
    party, notice_end = admitted(h, village)
    h.refused("membership.notice_not_over", village, "member.confirmed", {"party": party})
    h.clock.set(at_local(notice_end, 23, 59))
    h.refused("membership.notice_not_over", village, "member.confirmed", {"party": party})
    h.clock.set(at_local(notice_end + timedelta(days=1), 0, 0))
    changes = h.confirm(village, party)
    assert changes.one(Membership).status == "active" and changes.one(Membership).status_seq == changes.seq


def test_objections_are_filed_during_the_notice(h: Harness, village: str) -> None:
    party, notice_end = admitted(h, village)
    h.clock.set(at_local(notice_end + timedelta(days=1), 0, 0))
    h.refused(
        "membership.not_in_notice", village, "member.objection_filed", {"party": party, "objection": DOC}
    )
    h.clock.set(at_local(notice_end, 23, 59))
    changes = h.submit(village, "member.objection_filed", {"party": party, "objection": DOC})
    assert changes.one(Membership).status == "suspended"


def test_an_objection_suspends_the_decision_until_resolved(h: Harness, village: str) -> None:
    party, _ = admitted(h, village)
    h.submit(village, "member.objection_filed", {"party": party, "objection": DOC})
    h.advance(days=8)
    h.refused("membership.suspended", village, "member.confirmed", {"party": party})
    h.refused(
        "membership.not_in_notice", village, "member.objection_filed", {"party": party, "objection": DOC}
    )
    h.refused("membership.not_active", village, "member.status_changed", {"party": party, "reason": "death"})
    h.submit(village, "member.objection_resolved", {"party": party, "upheld": False, "decision": DOC})
    assert status(h, party) == "in_notice"
    h.refused(
        "membership.not_suspended",
        village,
        "member.objection_resolved",
        {"party": party, "upheld": False, "decision": DOC},
    )
    h.confirm(village, party)
    assert status(h, party) == "active"


def test_an_upheld_objection_rejects_the_admission(h: Harness, village: str) -> None:
    party, _ = admitted(h, village)
    h.submit(village, "member.objection_filed", {"party": party, "objection": DOC})
    h.submit(village, "member.objection_resolved", {"party": party, "upheld": True, "decision": DOC})
    h.advance(days=8)
    h.refused("membership.not_a_member", village, "member.confirmed", {"party": party})
    h.refused(
        "membership.not_a_member", village, "member.objection_filed", {"party": party, "objection": DOC}
    )


def test_no_objection_against_a_confirmed_member(h: Harness, village: str) -> None:
    _, people = h.members(village, 1)
    h.refused(
        "membership.not_in_notice", village, "member.objection_filed", {"party": people[0], "objection": DOC}
    )
    h.refused("membership.not_in_notice", village, "member.confirmed", {"party": people[0]})
    h.refused(
        "membership.not_suspended",
        village,
        "member.objection_resolved",
        {"party": people[0], "upheld": True, "decision": DOC},
    )


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("member.confirmed", {}),
        ("member.objection_filed", {"objection": DOC}),
        ("member.objection_resolved", {"upheld": False, "decision": DOC}),
        ("member.status_changed", {"reason": "death"}),
    ],
)
def test_acts_on_another_collectives_member(
    h: Harness, village: str, kind: str, payload: dict[str, Any]
) -> None:
    party, _ = admitted(h, village)
    h.refused("membership.not_a_member", h.collective(), kind, {"party": party, **payload})


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("member.confirmed", {}),
        ("member.objection_filed", {"objection": DOC}),
        ("member.status_changed", {"reason": "death"}),
    ],
)
def test_acts_on_a_person_never_admitted(
    h: Harness, village: str, kind: str, payload: dict[str, Any]
) -> None:
    h.refused("membership.not_a_member", village, kind, {"party": h.person(village), **payload})


# How membership ends


@pytest.mark.parametrize("reason", ENDING_REASONS)
def test_membership_ends(h: Harness, village: str, reason: str) -> None:
    _, people = h.members(village, 1)
    changes = h.submit(village, "member.status_changed", {"party": people[0], "reason": reason})
    m = changes.one(Membership)
    assert (m.status, m.ended_reason, m.status_seq) == ("ended", reason, changes.seq)
    h.refused(
        "membership.not_a_member", village, "member.status_changed", {"party": people[0], "reason": reason}
    )


@pytest.mark.parametrize("reason", NOT_A_LOSS)
def test_membership_is_not_lost_by(h: Harness, village: str, reason: str) -> None:
    _, people = h.members(village, 1)
    h.refused(
        "membership.not_a_loss_reason",
        village,
        "member.status_changed",
        {"party": people[0], "reason": reason},
    )
    assert status(h, people[0]) == "active"


def test_a_reason_of_neither_list(h: Harness, village: str) -> None:
    _, people = h.members(village, 1)
    h.refused(
        "payload.invalid", village, "member.status_changed", {"party": people[0], "reason": "emigration"}
    )


def test_membership_in_notice_does_not_end(h: Harness, village: str) -> None:
    party, _ = admitted(h, village)
    h.refused("membership.not_active", village, "member.status_changed", {"party": party, "reason": "death"})


def test_rights_are_kept_for_a_period_only_after_a_voluntary_exit(h: Harness, village: str) -> None:
    _, people = h.members(village, 2)
    h.refused(
        "membership.retention_only_on_exit",
        village,
        "member.status_changed",
        {"party": people[0], "reason": "death", "rights_retained_until": "2030-01-01"},
    )
    changes = h.submit(
        village,
        "member.status_changed",
        {"party": people[1], "reason": "voluntary_exit", "rights_retained_until": "2030-01-01"},
    )
    assert changes.one(Membership).rights_retained_until == date(2030, 1, 1)


def test_a_member_settled_in_town_keeps_membership_until_it_ends(h: Harness, village: str) -> None:
    household, people = h.members(village, 2)
    h.settle(village, household, people)
    assert status(h, people[0]) == "settled_in_town"
    h.refused(
        "membership.not_a_loss_reason",
        village,
        "member.status_changed",
        {"party": people[0], "reason": "hukou_moved_to_town"},
    )
    other = h.collective()
    h.refused("membership.already_member", other, "member.admitted", h.admission(other, people[0]))
    h.submit(village, "member.status_changed", {"party": people[0], "reason": "death"})
    assert status(h, people[0]) == "ended"
