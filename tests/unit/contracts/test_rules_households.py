"""Households (register, add and remove members, split), in memory: each refusal by its code,
and the households and memberships of persons the accepted entries leave."""

from __future__ import annotations

from contracts.households import Household, HouseholdMember
from tests.unit.contracts.harness import Harness


def in_household(h: Harness, household: str) -> dict[str, str]:
    return {m.party_id: m.relation for m in h.find(HouseholdMember, household_id=household)}


# Registering


def test_a_household_is_registered_with_its_head_and_members(h: Harness, village: str) -> None:
    people = [h.person(village) for _ in range(3)]
    payload = h.household_payload(people[0], people)
    changes = h.submit(village, "household.registered", payload)
    household = changes.one(Household)
    assert (household.collective_id, household.head_party, household.status) == (village, people[0], "active")
    assert household.house_given_up is False and household.registered_seq == changes.seq
    assert in_household(h, payload["household"]) == dict(
        zip(people, ["head", "spouse", "child"], strict=True)
    )


def test_only_a_collective_registers_households(h: Harness, village: str) -> None:
    a = h.person(village)
    for org in (h.parents[village], h.exchange_center()):
        assert org is not None
        h.refused("org.not_a_collective", org, "household.registered", h.household_payload(a, [a]))


def test_the_head_must_be_a_member(h: Harness, village: str) -> None:
    a, b = h.person(village), h.person(village)
    h.refused("household.head_not_member", village, "household.registered", h.household_payload(b, [a]))


def test_a_person_in_two_households(h: Harness, village: str) -> None:
    _, people = h.household(village, 2)
    payload = h.household_payload(people[0], [people[0]])
    h.refused("household.member_elsewhere", village, "household.registered", payload)


def test_a_person_in_households_of_two_collectives(h: Harness, village: str) -> None:
    _, people = h.household(village, 1)
    other = h.collective()
    h.refused(
        "household.member_elsewhere", other, "household.registered", h.household_payload(people[0], people)
    )


def test_a_person_listed_twice(h: Harness, village: str) -> None:
    a = h.person(village)
    payload = h.household_payload(a, [a, a], ["head", "child"])
    h.refused("household.duplicate_member", village, "household.registered", payload)


def test_a_household_id_used_twice(h: Harness, village: str) -> None:
    household, _ = h.household(village, 1)
    a = h.person(village)
    payload = h.household_payload(a, [a], household=household)
    h.refused("household.already_registered", village, "household.registered", payload)


def test_an_unregistered_member(h: Harness, village: str) -> None:
    a = h.person(village)
    payload = h.household_payload(a, [a, h.new_id()])
    h.refused("party.unknown", village, "household.registered", payload)


def test_a_relation_from_outside_the_closed_list(h: Harness, village: str) -> None:
    a = h.person(village)
    h.refused("payload.invalid", village, "household.registered", h.household_payload(a, [a], ["lodger"]))


# Adding and removing members


def test_a_member_added(h: Harness, village: str) -> None:
    household, people = h.household(village, 1)
    baby = h.person(village)
    changes = h.submit(
        village, "household.member_added", {"household": household, "party": baby, "relation": "child"}
    )
    added = changes.one(HouseholdMember)
    assert (added.household_id, added.relation, added.joined_seq) == (household, "child", changes.seq)
    assert set(in_household(h, household)) == {people[0], baby}


def test_a_member_added_to_an_unknown_household(h: Harness, village: str) -> None:
    a = h.person(village)
    h.refused(
        "household.unknown",
        village,
        "household.member_added",
        {"household": h.new_id(), "party": a, "relation": "child"},
    )


def test_a_member_added_to_another_collectives_household(h: Harness, village: str) -> None:
    household, _ = h.household(village, 1)
    other = h.collective()
    a = h.person(other)
    h.refused(
        "household.other_collective",
        other,
        "household.member_added",
        {"household": household, "party": a, "relation": "child"},
    )


def test_a_member_added_who_is_in_another_household(h: Harness, village: str) -> None:
    household, _ = h.household(village, 1)
    _, others = h.household(village, 1)
    h.refused(
        "household.member_elsewhere",
        village,
        "household.member_added",
        {"household": household, "party": others[0], "relation": "spouse"},
    )


def test_a_member_removed(h: Harness, village: str) -> None:
    household, people = h.household(village, 2)
    changes = h.submit(
        village,
        "household.member_removed",
        {"household": household, "party": people[1], "reason": "marriage_out"},
    )
    assert [m.party_id for m in changes.deleted(HouseholdMember)] == [people[1]]
    assert in_household(h, household) == {people[0]: "head"}
    h.refused(
        "household.not_a_member",
        village,
        "household.member_removed",
        {"household": household, "party": people[1], "reason": "death"},
    )


def test_removing_the_head_needs_a_new_head_among_those_who_stay(h: Harness, village: str) -> None:
    household, people = h.household(village, 3)
    removal = {"household": household, "party": people[0], "reason": "death"}
    h.refused("household.head_not_member", village, "household.member_removed", removal)
    stranger = h.person(village)
    h.refused(
        "household.head_not_member", village, "household.member_removed", {**removal, "new_head": stranger}
    )
    h.refused(
        "household.head_not_member", village, "household.member_removed", {**removal, "new_head": people[0]}
    )
    h.submit(village, "household.member_removed", {**removal, "new_head": people[2]})
    assert h.row(Household, household).head_party == people[2]


def test_removing_the_last_member_dissolves_the_household(h: Harness, village: str) -> None:
    household, people = h.household(village, 2)
    h.submit(
        village, "household.member_removed", {"household": household, "party": people[1], "reason": "death"}
    )
    h.submit(
        village, "household.member_removed", {"household": household, "party": people[0], "reason": "death"}
    )
    assert h.row(Household, household).status == "dissolved"
    a = h.person(village)
    h.refused(
        "household.unknown",
        village,
        "household.member_added",
        {"household": household, "party": a, "relation": "head"},
    )


def test_a_person_removed_joins_another_household(h: Harness, village: str) -> None:
    household, people = h.household(village, 2)
    h.submit(
        village,
        "household.member_removed",
        {"household": household, "party": people[1], "reason": "moved_out"},
    )
    other, _ = h.household(village, 1)
    h.submit(
        village, "household.member_added", {"household": other, "party": people[1], "relation": "spouse"}
    )
    assert h.row(HouseholdMember, people[1]).household_id == other


def test_a_member_removed_from_another_collectives_household(h: Harness, village: str) -> None:
    household, people = h.household(village, 2)
    h.refused(
        "household.other_collective",
        h.collective(),
        "household.member_removed",
        {"household": household, "party": people[1], "reason": "death"},
    )


def test_a_member_removed_for_a_reason_off_the_list(h: Harness, village: str) -> None:
    household, people = h.household(village, 2)
    h.refused(
        "payload.invalid",
        village,
        "household.member_removed",
        {"household": household, "party": people[1], "reason": "quarrel"},
    )


# Splitting


def split(household: str, new: str, head: str, movers: list[str], **over: str) -> dict[str, object]:
    return {
        "household": household,
        "new_household": new,
        "head": head,
        "members": [{"party": p, "relation": "head" if p == head else "spouse"} for p in movers],
        "reason": "marriage",
        **over,
    }


def test_a_split_on_marriage(h: Harness, village: str) -> None:
    household, people = h.household(village, 4)
    new = h.new_id()
    changes = h.submit(village, "household.split", split(household, new, people[2], people[2:]))
    created = next(x for x in changes.puts(Household) if x.id == new)
    assert (created.collective_id, created.head_party, created.status) == (village, people[2], "active")
    assert set(in_household(h, new)) == set(people[2:])
    assert set(in_household(h, household)) == set(people[:2])
    assert h.row(Household, household).head_party == people[0]


def test_a_split_that_takes_the_old_head_names_a_remaining_head(h: Harness, village: str) -> None:
    household, people = h.household(village, 3)
    moving = split(household, h.new_id(), people[0], people[:1], reason="division")
    h.refused("household.head_not_member", village, "household.split", moving)
    h.refused(
        "household.head_not_member", village, "household.split", {**moving, "remaining_head": people[0]}
    )
    h.submit(village, "household.split", {**moving, "remaining_head": people[1]})
    assert h.row(Household, household).head_party == people[1]


def test_a_split_must_leave_someone_behind(h: Harness, village: str) -> None:
    household, people = h.household(village, 2)
    h.refused(
        "household.split_empties", village, "household.split", split(household, h.new_id(), people[0], people)
    )


def test_the_new_head_is_one_who_moves(h: Harness, village: str) -> None:
    household, people = h.household(village, 3)
    h.refused(
        "household.head_not_member",
        village,
        "household.split",
        split(household, h.new_id(), people[0], people[2:]),
    )


def test_a_split_of_persons_not_in_the_household(h: Harness, village: str) -> None:
    household, _ = h.household(village, 2)
    stranger = h.person(village)
    h.refused(
        "household.not_a_member",
        village,
        "household.split",
        split(household, h.new_id(), stranger, [stranger], reason="division"),
    )


def test_a_split_into_an_existing_household(h: Harness, village: str) -> None:
    household, people = h.household(village, 2)
    other, _ = h.household(village, 1)
    h.refused(
        "household.already_registered",
        village,
        "household.split",
        split(household, other, people[1], people[1:]),
    )


def test_a_split_of_an_unknown_or_foreign_household(h: Harness, village: str) -> None:
    household, people = h.household(village, 2)
    h.refused(
        "household.unknown", village, "household.split", split(h.new_id(), h.new_id(), people[1], people[1:])
    )
    h.refused(
        "household.other_collective",
        h.collective(),
        "household.split",
        split(household, h.new_id(), people[1], people[1:]),
    )
