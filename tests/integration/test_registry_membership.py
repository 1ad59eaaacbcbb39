"""Households and membership rules, each violation through the HTTP API."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.registry_checks import refused
from tests.registry_support import Village, hexdigest, village
from tests.support import LedgerFixture


@pytest.fixture(scope="module")
async def v(ledger: LedgerFixture) -> Village:
    return await village(ledger, "lidao", "lidao-dongdun")


def new_id() -> str:
    return str(uuid.uuid4())


async def test_second_membership_in_another_collective(v: Village, ledger: LedgerFixture) -> None:
    _, people = await v.members(2)
    other = await village(ledger, "lidao", "lidao-xidun")
    body = await refused(
        other,
        "member.admitted",
        {"party": people[0].party, "basis": "marriage", "decision": other.decision()},
        "membership.already_member",
    )
    assert v.village in body["detail"]


async def test_membership_not_lost_by_moving_hukou_to_town(v: Village) -> None:
    _, people = await v.members(1)
    for reason in ("hukou_moved_to_town", "study", "military_service", "work_elsewhere", "divorce", "prison"):
        await refused(
            v,
            "member.status_changed",
            {"party": people[0].party, "reason": reason},
            "membership.not_a_loss_reason",
        )


async def test_membership_ends_on_death_then_not_active(v: Village) -> None:
    _, people = await v.members(1)
    await v.append("member.status_changed", {"party": people[0].party, "reason": "death"})
    await refused(
        v, "member.status_changed", {"party": people[0].party, "reason": "death"}, "membership.not_a_member"
    )


async def test_retention_only_after_voluntary_exit(v: Village) -> None:
    _, people = await v.members(1)
    await refused(
        v,
        "member.status_changed",
        {"party": people[0].party, "reason": "death", "rights_retained_until": "2030-01-01"},
        "membership.retention_only_on_exit",
    )
    await v.append(
        "member.status_changed",
        {"party": people[0].party, "reason": "voluntary_exit", "rights_retained_until": "2030-01-01"},
    )


async def test_contested_case_needs_two_thirds(v: Village) -> None:
    p = await v.person()
    await refused(
        v,
        "member.admitted",
        {
            "party": p.party,
            "basis": "adoption",
            "decision": v.decision(contested=True, votes_for=33, attendance=50),
        },
        "membership.votes_insufficient",
    )
    await v.admit(p.party, contested=True, votes_for=34, attendance=50)


async def test_plain_case_needs_a_majority(v: Village) -> None:
    p = await v.person()
    await refused(
        v,
        "member.admitted",
        {"party": p.party, "basis": "birth", "decision": v.decision(votes_for=25, attendance=50)},
        "membership.votes_insufficient",
    )


async def test_representatives_meeting_quorum(v: Village) -> None:
    p = await v.person()
    await refused(
        v,
        "member.admitted",
        {
            "party": p.party,
            "basis": "hukou",
            "decision": v.decision(
                meeting="representatives_meeting", eligible=30, attendance=19, votes_for=19
            ),
        },
        "membership.quorum_not_met",
    )


async def test_vote_counts_must_add_up(v: Village) -> None:
    p = await v.person()
    await refused(
        v,
        "member.admitted",
        {"party": p.party, "basis": "hukou", "decision": v.decision(votes_for=51, attendance=50)},
        "membership.bad_vote_count",
    )


async def test_notice_period_is_policy(v: Village, ledger: LedgerFixture) -> None:
    p = await v.person()
    await refused(
        v,
        "member.admitted",
        {"party": p.party, "basis": "hukou", "decision": v.decision(notice_days=6)},
        "membership.notice_too_short",
    )
    await ledger.client.append(
        ledger.keys["county"], "policy.set", {"numbers": {"membership_notice_days": 10}}
    )
    await refused(
        v,
        "member.admitted",
        {"party": p.party, "basis": "hukou", "decision": v.decision(notice_days=9)},
        "membership.notice_too_short",
    )
    await ledger.client.append(
        ledger.keys["county"], "policy.set", {"numbers": {"membership_notice_days": 7}}
    )
    await v.admit(p.party, notice_days=7)


async def test_objection_suspends_until_resolved(v: Village) -> None:
    p = await v.person()
    await v.admit(p.party)
    await v.append("member.objection_filed", {"party": p.party, "objection": hexdigest("o")})
    v.fx.clock.advance(days=8)  # type: ignore[attr-defined]
    await refused(v, "member.confirmed", {"party": p.party}, "membership.suspended")
    await refused(
        v,
        "member.objection_filed",
        {"party": p.party, "objection": hexdigest("o2")},
        "membership.not_in_notice",
    )
    await v.append(
        "member.objection_resolved", {"party": p.party, "upheld": False, "decision": hexdigest("d")}
    )
    await refused(
        v,
        "member.objection_resolved",
        {"party": p.party, "upheld": False, "decision": hexdigest("d")},
        "membership.not_suspended",
    )
    await v.append("member.confirmed", {"party": p.party})


async def test_confirmation_waits_for_the_notice_to_end(v: Village) -> None:
    p = await v.person()
    await v.admit(p.party)
    await refused(v, "member.confirmed", {"party": p.party}, "membership.notice_not_over")


async def test_upheld_objection_rejects(v: Village) -> None:
    p = await v.person()
    await v.admit(p.party)
    await v.append("member.objection_filed", {"party": p.party, "objection": hexdigest("o")})
    await v.append(
        "member.objection_resolved", {"party": p.party, "upheld": True, "decision": hexdigest("d")}
    )
    await refused(v, "member.confirmed", {"party": p.party}, "membership.not_a_member")


async def test_only_a_collective_admits(v: Village, ledger: LedgerFixture) -> None:
    p = await v.person()
    await refused(
        v,
        "member.admitted",
        {"party": p.party, "basis": "hukou", "decision": v.decision()},
        "org.not_a_collective",
        key=ledger.keys[v.township],
    )


async def test_unknown_party(v: Village) -> None:
    await refused(
        v, "member.admitted", {"party": new_id(), "basis": "hukou", "decision": v.decision()}, "party.unknown"
    )


async def test_confirmed_already_active(v: Village) -> None:
    _, people = await v.members(1)
    await refused(v, "member.confirmed", {"party": people[0].party}, "membership.not_in_notice")


async def test_admission_into_a_household_the_person_is_not_in(v: Village) -> None:
    household, _ = await v.household(2)
    stranger = await v.person()
    await refused(
        v,
        "member.admitted",
        {"party": stranger.party, "basis": "hukou", "household": household, "decision": v.decision()},
        "household.not_a_member",
    )


# Households


async def test_household_head_must_be_a_member(v: Village) -> None:
    a, b = await v.person(), await v.person()
    await refused(
        v,
        "household.registered",
        {"household": new_id(), "head": b.party, "members": [{"party": a.party, "relation": "head"}]},
        "household.head_not_member",
    )


async def test_person_in_two_households(v: Village) -> None:
    _, people = await v.household(2)
    await refused(
        v,
        "household.registered",
        {
            "household": new_id(),
            "head": people[0].party,
            "members": [{"party": people[0].party, "relation": "head"}],
        },
        "household.member_elsewhere",
    )


async def test_person_listed_twice(v: Village) -> None:
    a = await v.person()
    await refused(
        v,
        "household.registered",
        {
            "household": new_id(),
            "head": a.party,
            "members": [{"party": a.party, "relation": "head"}, {"party": a.party, "relation": "child"}],
        },
        "household.duplicate_member",
    )


async def test_household_id_reused(v: Village) -> None:
    household, _ = await v.household(1)
    a = await v.person()
    await refused(
        v,
        "household.registered",
        {"household": household, "head": a.party, "members": [{"party": a.party, "relation": "head"}]},
        "household.already_registered",
    )


async def test_household_of_another_collective(v: Village, ledger: LedgerFixture) -> None:
    household, _ = await v.household(1)
    other = await village(ledger, "lidao", "lidao-nandun")
    a = await other.person()
    await refused(
        other,
        "household.member_added",
        {"household": household, "party": a.party, "relation": "child"},
        "household.other_collective",
    )


async def test_unknown_household(v: Village) -> None:
    a = await v.person()
    await refused(
        v,
        "household.member_added",
        {"household": new_id(), "party": a.party, "relation": "child"},
        "household.unknown",
    )


async def test_split_on_marriage(v: Village) -> None:
    household, people = await v.household(4)
    new = new_id()
    await refused(
        v,
        "household.split",
        {
            "household": household,
            "new_household": new,
            "head": people[0].party,
            "members": [{"party": p.party, "relation": "other"} for p in people],
            "reason": "marriage",
        },
        "household.split_empties",
    )
    await refused(
        v,
        "household.split",
        {
            "household": household,
            "new_household": new,
            "head": people[0].party,
            "members": [{"party": people[0].party, "relation": "head"}],
            "reason": "marriage",
        },
        "household.head_not_member",
    )
    await v.append(
        "household.split",
        {
            "household": household,
            "new_household": new,
            "head": people[2].party,
            "members": [
                {"party": people[2].party, "relation": "head"},
                {"party": people[3].party, "relation": "spouse"},
            ],
            "reason": "marriage",
        },
    )
    stranger = await v.person()
    await refused(
        v,
        "household.split",
        {
            "household": household,
            "new_household": new_id(),
            "head": stranger.party,
            "members": [{"party": stranger.party, "relation": "head"}],
            "reason": "division",
        },
        "household.not_a_member",
    )


async def test_remove_member(v: Village) -> None:
    household, people = await v.household(2)
    await refused(
        v,
        "household.member_removed",
        {"household": household, "party": people[0].party, "reason": "death"},
        "household.head_not_member",
    )
    await v.append(
        "household.member_removed",
        {"household": household, "party": people[1].party, "reason": "marriage_out"},
    )
    await refused(
        v,
        "household.member_removed",
        {"household": household, "party": people[1].party, "reason": "death"},
        "household.not_a_member",
    )


# Policy


async def test_policy_is_set_by_a_county_only(v: Village) -> None:
    await refused(v, "policy.set", {"numbers": {"membership_notice_days": 3}}, "policy.not_a_county")


async def test_policy_unknown_number(v: Village, ledger: LedgerFixture) -> None:
    await refused(
        v, "policy.set", {"numbers": {"free_land": 1}}, "policy.unknown_number", key=ledger.keys["county"]
    )


async def test_policy_bad_value(v: Village, ledger: LedgerFixture) -> None:
    await refused(
        v,
        "policy.set",
        {"numbers": {"membership_notice_days": -1}},
        "policy.invalid",
        key=ledger.keys["county"],
    )


async def test_status_change_while_in_notice(v: Village) -> None:
    p = await v.person()
    await v.admit(p.party)
    await refused(v, "member.status_changed", {"party": p.party, "reason": "death"}, "membership.not_active")
