"""Collective membership (成员资格): admission by decision and public notice (公示), objections,
confirmation, and the few ways membership ends.

One person is a member of at most one collective at a time. Membership is not lost by moving
hukou to town, study, military service, work elsewhere, divorce or prison; it ends on death,
voluntary exit, joining another collective, or public employment. Settling in town (through a
transfer filing certificate) keeps it, with rights retained.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from contracts.errors import RuleViolation
from contracts.households import HouseholdMember, household_of, require_collective
from contracts.orgs import Org
from contracts.parties import Sha256Hex, Uuid, require_party
from contracts.policy import policy_for
from contracts.registry import Payload, RecordContext, Signers, revision, rule
from contracts.state import Change, Put, State, make
from ledger.errors import Category

# Statuses in which a person counts as a member (or about to be) of the collective.
HOLDING = frozenset({"in_notice", "suspended", "active", "settled_in_town"})
# A membership in force: confirmed, whether the member lives in the village or settled in town
# with rights retained (not one in notice, suspended by an objection, ended or rejected).
IN_FORCE = frozenset({"active", "settled_in_town"})
LIVES_IN_VILLAGE = "active"
ENDING_REASONS = ("death", "voluntary_exit", "joined_other_collective", "public_employment")
NOT_A_LOSS = ("hukou_moved_to_town", "study", "military_service", "work_elsewhere", "divorce", "prison")


class Membership(SQLModel, table=True):
    """A person's current (or last) membership; earlier ones are in the log."""

    __tablename__ = "memberships"
    party_id: str = Field(primary_key=True)
    collective_id: str = Field(index=True)
    household_id: str | None = None
    status: str = Field(index=True)  # in_notice|suspended|active|settled_in_town|ended|rejected
    basis: str
    notice_end: date
    admitted_seq: int = Field(sa_type=BigInteger)
    status_seq: int = Field(sa_type=BigInteger)
    ended_reason: str | None = None
    rights_retained_until: date | None = None


TABLES = (Membership,)

# Who signs every membership kind.
MEMBER_COLLECTIVE = Signers(("village_collective",), "the person's village collective")

Evidence = Annotated[list[Sha256Hex], msgspec.Meta(max_length=32)]
Count = Annotated[int, msgspec.Meta(ge=0, le=100_000)]


class Decision(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The collective's decision: members' assembly or representatives' meeting."""

    meeting: Literal["members_assembly", "representatives_meeting"]
    eligible: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    attendance: Count
    votes_for: Count
    contested: bool
    notice_start: date
    notice_end: date
    evidence: Evidence = []


class MemberAdmitted(Payload, frozen=True):
    party: Uuid
    basis: Literal[
        "hukou", "land_contract", "contribution", "birth", "marriage", "adoption", "policy_migration"
    ]
    decision: Decision
    household: Uuid | None = None


class ObjectionFiled(Payload, frozen=True):
    party: Uuid
    objection: Sha256Hex


class ObjectionResolved(Payload, frozen=True):
    party: Uuid
    upheld: bool
    decision: Sha256Hex


class MemberConfirmed(Payload, frozen=True):
    party: Uuid


class MembershipChanged(Payload, frozen=True):
    party: Uuid
    reason: str
    evidence: Evidence = []
    rights_retained_until: date | None = None


def check_decision(d: Decision, notice_days: int) -> None:
    if d.attendance > d.eligible or d.votes_for > d.attendance:
        raise RuleViolation(
            "membership.bad_vote_count", "votes for <= attendance <= eligible members must hold"
        )
    if d.meeting == "representatives_meeting" and d.attendance * 3 < d.eligible * 2:
        raise RuleViolation(
            "membership.quorum_not_met",
            f"a representatives' meeting needs 2/3 attending: {d.attendance} of {d.eligible}",
        )
    needed = "2/3" if d.contested else "a majority"
    enough = d.votes_for * 3 >= d.attendance * 2 if d.contested else d.votes_for * 2 > d.attendance
    if not enough:
        raise RuleViolation(
            "membership.votes_insufficient",
            f"a {'contested' if d.contested else 'plain'} case needs {needed} "
            f"of those present: {d.votes_for} of {d.attendance}",
        )
    if (d.notice_end - d.notice_start).days < notice_days:
        raise RuleViolation(
            "membership.notice_too_short",
            f"notice must run at least {notice_days} days, "
            f"{d.notice_start} to {d.notice_end} is "
            f"{(d.notice_end - d.notice_start).days}",
        )


def membership_at(state: State, party_id: str, collective_id: str) -> Membership:
    m = state.get(Membership, party_id)
    if m is None or m.collective_id != collective_id or m.status not in HOLDING:
        raise RuleViolation("membership.not_a_member", f"party {party_id} is not a member of {collective_id}")
    return m


@rule(
    "member.admitted",
    MemberAdmitted,
    prefetch=lambda p, rec: [(Membership, (p.party,)), (Org, (rec.actor,))],
    signed_by=MEMBER_COLLECTIVE,
)
def admit_member(state: State, rec: RecordContext, p: MemberAdmitted) -> list[Change]:
    """The collective admits a person as a member by a meeting's decision, subject to public notice (公示)."""
    require_collective(state, rec.actor)
    require_party(state, p.party)
    current = state.get(Membership, p.party)
    if current is not None and current.status in HOLDING:
        raise RuleViolation(
            "membership.already_member",
            f"party {p.party} is already a member of {current.collective_id} "
            f"({current.status}); one person, one collective",
            category=Category.CONFLICT,
        )
    if p.household is not None:
        household_of(state, p.household, rec.actor)
        hm = state.get(HouseholdMember, p.party)
        if hm is None or hm.household_id != p.household:
            raise RuleViolation(
                "household.not_a_member", f"party {p.party} is not in household {p.household}"
            )
    check_decision(p.decision, policy_for(state, rec.actor).membership_notice_days)
    return [
        Put(
            make(
                Membership,
                party_id=p.party,
                collective_id=rec.actor,
                household_id=p.household,
                status="in_notice",
                basis=p.basis,
                notice_end=p.decision.notice_end,
                admitted_seq=rec.seq,
                status_seq=rec.seq,
                ended_reason=None,
                rights_retained_until=None,
            )
        )
    ]


def _with_status(m: Membership, status: str, seq: int, **more: object) -> Put:
    return Put(m.model_copy(update={"status": status, "status_seq": seq, **more}))


@revision(admit_member, version=2, signed_by=MEMBER_COLLECTIVE)
def admit_member_v2(state: State, rec: RecordContext, p: MemberAdmitted) -> list[Change]:
    """Version 2: a meeting nobody attended decides nothing (under version 1 a contested case
    passed with 0 votes of 0 present, as 0 >= 2/3 of 0)."""
    changes = list(admit_member.apply(state, rec, p))
    if p.decision.attendance == 0:
        raise RuleViolation("membership.quorum_not_met", "nobody attended the meeting: it decided nothing")
    return changes


@rule("member.objection_filed", ObjectionFiled, signed_by=MEMBER_COLLECTIVE)
def file_objection(state: State, rec: RecordContext, p: ObjectionFiled) -> list[Change]:
    """An objection filed during the notice suspends the admission decision."""
    m = membership_at(state, p.party, rec.actor)
    if m.status != "in_notice" or rec.local_date > m.notice_end:
        raise RuleViolation("membership.not_in_notice", "objections are filed during the notice period")
    return [_with_status(m, "suspended", rec.seq)]


@rule("member.objection_resolved", ObjectionResolved, signed_by=MEMBER_COLLECTIVE)
def resolve_objection(state: State, rec: RecordContext, p: ObjectionResolved) -> list[Change]:
    """An objection is resolved: upheld, the admission is rejected; dismissed, the notice goes on."""
    m = membership_at(state, p.party, rec.actor)
    if m.status != "suspended":
        raise RuleViolation("membership.not_suspended", "no objection is pending")
    return [_with_status(m, "rejected" if p.upheld else "in_notice", rec.seq)]


@rule(
    "member.confirmed",
    MemberConfirmed,
    prefetch=lambda p, rec: [(Membership, (p.party,))],
    signed_by=MEMBER_COLLECTIVE,
)
def confirm_member(state: State, rec: RecordContext, p: MemberConfirmed) -> list[Change]:
    """After the notice, the collective confirms an admission: the person is a member in force."""
    m = membership_at(state, p.party, rec.actor)
    if m.status == "suspended":
        raise RuleViolation("membership.suspended", "an objection suspends the decision")
    if m.status != "in_notice":
        raise RuleViolation("membership.not_in_notice", f"membership is {m.status}")
    if rec.local_date <= m.notice_end:
        raise RuleViolation("membership.notice_not_over", f"the notice runs until {m.notice_end}")
    return [_with_status(m, "active", rec.seq)]


@rule(
    "member.status_changed",
    MembershipChanged,
    prefetch=lambda p, rec: [(Membership, (p.party,))],
    signed_by=MEMBER_COLLECTIVE,
)
def change_membership(state: State, rec: RecordContext, p: MembershipChanged) -> list[Change]:
    """A membership ends: on death, voluntary exit, joining another collective or public employment."""
    if p.reason in NOT_A_LOSS:
        raise RuleViolation(
            "membership.not_a_loss_reason",
            f"membership is not lost by {p.reason.replace('_', ' ')}; "
            f"it ends only on {', '.join(ENDING_REASONS)}",
        )
    if p.reason not in ENDING_REASONS:
        raise RuleViolation("payload.invalid", f"reason must be one of {ENDING_REASONS}")
    m = membership_at(state, p.party, rec.actor)
    if m.status not in ("active", "settled_in_town"):
        raise RuleViolation("membership.not_active", f"membership is {m.status}")
    if p.rights_retained_until is not None and p.reason != "voluntary_exit":
        raise RuleViolation(
            "membership.retention_only_on_exit", "rights are kept for a period only after a voluntary exit"
        )
    return [
        _with_status(
            m, "ended", rec.seq, ended_reason=p.reason, rights_retained_until=p.rights_retained_until
        )
    ]
