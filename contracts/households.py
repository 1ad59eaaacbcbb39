"""Households (户): register, add and remove members, split (on marriage, or otherwise).

A household belongs to one village collective and groups persons; a person is in at most one
household. A household that sold, rented out or gave away its house is marked, since it gets
no new homestead.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from contracts.errors import RuleViolation
from contracts.orgs import Org
from contracts.parties import Uuid, require_party
from contracts.registry import Payload, RecordContext, Signers, rule
from contracts.state import Change, Delete, Put, State, Where, make
from ledger.errors import Category

# Who signs every household kind.
HOUSEHOLD_COLLECTIVE = Signers(("village_collective",), "the household's village collective")

Relation = Literal["head", "spouse", "child", "parent", "grandchild", "grandparent", "sibling", "other"]


class Household(SQLModel, table=True):
    __tablename__ = "households"
    id: str = Field(primary_key=True)
    collective_id: str = Field(index=True)
    head_party: str
    status: str = "active"  # active | dissolved
    house_given_up: bool = False
    registered_seq: int = Field(sa_type=BigInteger)


class HouseholdMember(SQLModel, table=True):
    __tablename__ = "household_members"
    party_id: str = Field(primary_key=True)
    household_id: str = Field(index=True)
    relation: str
    joined_seq: int = Field(sa_type=BigInteger)


TABLES = (Household, HouseholdMember)


class MemberSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    party: Uuid
    relation: Relation


Members = Annotated[list[MemberSpec], msgspec.Meta(min_length=1, max_length=64)]


class HouseholdRegistered(Payload, frozen=True):
    household: Uuid
    head: Uuid
    members: Members


class HouseholdMemberAdded(Payload, frozen=True):
    household: Uuid
    party: Uuid
    relation: Relation


class HouseholdMemberRemoved(Payload, frozen=True):
    household: Uuid
    party: Uuid
    reason: Literal["death", "marriage_out", "moved_out", "other"]
    new_head: Uuid | None = None


class HouseholdSplit(Payload, frozen=True):
    household: Uuid
    new_household: Uuid
    head: Uuid
    members: Members
    reason: Literal["marriage", "division", "other"]
    remaining_head: Uuid | None = None


def require_collective(state: State, actor: str) -> Org:
    org = state.get(Org, actor)
    if org is None or org.type != "village_collective":
        raise RuleViolation(
            "org.not_a_collective", f"{actor} is not a village collective", category=Category.FORBIDDEN
        )
    return org


def household_of(state: State, household_id: str, collective_id: str) -> Household:
    """The active household ``household_id`` of ``collective_id``."""
    household = state.get(Household, household_id)
    if household is None or household.status != "active":
        raise RuleViolation("household.unknown", f"household {household_id} is not registered")
    if household.collective_id != collective_id:
        raise RuleViolation(
            "household.other_collective",
            f"household {household_id} belongs to {household.collective_id}",
            category=Category.FORBIDDEN,
        )
    return household


def members_of(state: State, household_id: str) -> list[HouseholdMember]:
    return state.find(HouseholdMember, household_id=household_id)


def _join(state: State, household_id: str, specs: list[MemberSpec], seq: int) -> list[Change]:
    if len({m.party for m in specs}) != len(specs):
        raise RuleViolation("household.duplicate_member", "a person is listed twice")
    changes: list[Change] = []
    for m in specs:
        require_party(state, m.party)
        current = state.get(HouseholdMember, m.party)
        if current is not None:
            raise RuleViolation(
                "household.member_elsewhere", f"party {m.party} is in household {current.household_id}"
            )
        changes.append(
            Put(
                make(
                    HouseholdMember,
                    party_id=m.party,
                    household_id=household_id,
                    relation=m.relation,
                    joined_seq=seq,
                )
            )
        )
    return changes


@rule(
    "household.registered",
    HouseholdRegistered,
    prefetch=lambda p, rec: [
        (Org, (rec.actor,)),
        (Household, (p.household,)),
        *((HouseholdMember, (m.party,)) for m in p.members),
    ],
    signed_by=HOUSEHOLD_COLLECTIVE,
)
def register_household(state: State, rec: RecordContext, p: HouseholdRegistered) -> list[Change]:
    """A village collective registers a household (户) and its members."""
    require_collective(state, rec.actor)
    if state.get(Household, p.household) is not None:
        raise RuleViolation("household.already_registered", f"household {p.household} exists")
    if p.head not in {m.party for m in p.members}:
        raise RuleViolation("household.head_not_member", "the head must be one of the members")
    household = make(
        Household,
        id=p.household,
        collective_id=rec.actor,
        head_party=p.head,
        status="active",
        house_given_up=False,
        registered_seq=rec.seq,
    )
    return [Put(household), *_join(state, p.household, p.members, rec.seq)]


@rule(
    "household.member_added",
    HouseholdMemberAdded,
    prefetch=lambda p, rec: [(Household, (p.household,)), (HouseholdMember, (p.party,))],
    signed_by=HOUSEHOLD_COLLECTIVE,
)
def add_member(state: State, rec: RecordContext, p: HouseholdMemberAdded) -> list[Change]:
    """A registered person joins a household of the collective."""
    household_of(state, p.household, rec.actor)
    return _join(state, p.household, [MemberSpec(p.party, p.relation)], rec.seq)


@rule(
    "household.member_removed",
    HouseholdMemberRemoved,
    prefetch=lambda p, rec: [
        (Household, (p.household,)),
        (HouseholdMember, (p.party,)),
        Where(HouseholdMember, "household_id", p.household),
    ],
    signed_by=HOUSEHOLD_COLLECTIVE,
)
def remove_member(state: State, rec: RecordContext, p: HouseholdMemberRemoved) -> list[Change]:
    """A person leaves a household (death, marrying out, moving out); removing the head names a new one."""
    household = household_of(state, p.household, rec.actor)
    member = state.get(HouseholdMember, p.party)
    if member is None or member.household_id != p.household:
        raise RuleViolation("household.not_a_member", f"party {p.party} is not in this household")
    changes: list[Change] = [Delete(member)]
    remaining = [m for m in members_of(state, p.household) if m.party_id != p.party]
    if household.head_party == p.party:
        if remaining and (p.new_head is None or p.new_head not in {m.party_id for m in remaining}):
            raise RuleViolation(
                "household.head_not_member", "removing the head needs a new head among the remaining members"
            )
        changes.append(
            Put(
                household.model_copy(
                    update={
                        "head_party": p.new_head or p.party,
                        "status": "active" if remaining else "dissolved",
                    }
                )
            )
        )
    elif not remaining:
        changes.append(Put(household.model_copy(update={"status": "dissolved"})))
    return changes


@rule(
    "household.split",
    HouseholdSplit,
    prefetch=lambda p, rec: [
        (Household, (p.household,)),
        (Household, (p.new_household,)),
        Where(HouseholdMember, "household_id", p.household),
    ],
    signed_by=HOUSEHOLD_COLLECTIVE,
)
def split_household(state: State, rec: RecordContext, p: HouseholdSplit) -> list[Change]:
    """Some of a household's members form a new household of the same collective (on marriage, or a
    division)."""
    household = household_of(state, p.household, rec.actor)
    if state.get(Household, p.new_household) is not None:
        raise RuleViolation("household.already_registered", f"household {p.new_household} exists")
    current = {m.party_id: m for m in members_of(state, p.household)}
    moving = [m.party for m in p.members]
    if not set(moving) <= current.keys():
        raise RuleViolation(
            "household.not_a_member", f"{sorted(set(moving) - current.keys())} are not in this household"
        )
    if p.head not in moving:
        raise RuleViolation("household.head_not_member", "the new head must be one who moves")
    staying = [pid for pid in current if pid not in moving]
    if not staying:
        raise RuleViolation("household.split_empties", "a split must leave someone behind")
    old_head = household.head_party
    if old_head in moving:
        if p.remaining_head not in staying:
            raise RuleViolation(
                "household.head_not_member", "the old head moves: name a remaining head among those who stay"
            )
        old_head = p.remaining_head
    new = make(
        Household,
        id=p.new_household,
        collective_id=rec.actor,
        head_party=p.head,
        status="active",
        house_given_up=False,
        registered_seq=rec.seq,
    )
    changes: list[Change] = [Put(new), Put(household.model_copy(update={"head_party": old_head}))]
    for m in p.members:
        changes.append(
            Put(
                make(
                    HouseholdMember,
                    party_id=m.party,
                    household_id=p.new_household,
                    relation=m.relation,
                    joined_seq=rec.seq,
                )
            )
        )
    return changes
