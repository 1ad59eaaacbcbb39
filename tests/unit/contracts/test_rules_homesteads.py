"""Homesteads (grant, transfer, voluntary paid withdrawal), in memory: each refusal by its code
and the homesteads and households the accepted entries leave. Grants and transfers go to
households with confirmed members living in the village here; households with no member in
force, or all of whose members settled in town, are another rule version's."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.homesteads import Homestead
from contracts.households import Household
from contracts.membership import Membership
from tests.unit.contracts.harness import DOC, Harness

DEFAULT_CAPS = {"suburb": 166, "plain": 200, "plain_saline": 264, "hilly_flat": 132, "hilly_slope": 264}


@pytest.fixture
def household(h: Harness, village: str) -> str:
    """A household of one confirmed member."""
    return h.members(village, 1)[0]


def transfer(homestead: str, to: str) -> dict[str, Any]:
    return {"homestead": homestead, "to_household": to, "agreement": DOC}


def withdrawal(homestead: str, compensation: str = "voucher", fen: int = 30_000_000) -> dict[str, Any]:
    return {"homestead": homestead, "compensation": compensation, "compensation_fen": fen, "agreement": DOC}


# Grants


def test_a_homestead_is_granted(h: Harness, village: str, household: str) -> None:
    payload = h.grant_payload(village, household, 180, "plain")
    changes = h.submit(village, "homestead.granted", payload)
    row = changes.one(Homestead)
    assert (row.id, row.collective_id, row.household_id) == (payload["homestead"], village, household)
    assert (row.plot_code, row.area_m2, row.zone, row.status) == (payload["plot_code"], 180, "plain", "held")
    assert row.granted_seq == changes.seq and row.for_reclamation is False and row.compensation is None


def test_only_a_collective_grants(h: Harness, village: str, household: str) -> None:
    township = h.parents[village]
    assert township is not None
    h.refused("org.not_a_collective", township, "homestead.granted", h.grant_payload(village, household))


def test_a_grant_to_an_unknown_household(h: Harness, village: str) -> None:
    h.refused("household.unknown", village, "homestead.granted", h.grant_payload(village, h.new_id()))


def test_a_grant_to_another_collectives_household(h: Harness, village: str) -> None:
    theirs, _ = h.members(h.collective(), 1)
    h.refused("household.other_collective", village, "homestead.granted", h.grant_payload(village, theirs))


def test_a_homestead_id_used_twice(h: Harness, village: str, household: str) -> None:
    _, homestead = h.homestead(village, household)
    other, _ = h.members(village, 1)
    h.refused(
        "homestead.exists", village, "homestead.granted", h.grant_payload(village, other, homestead=homestead)
    )


def test_a_plot_code_outside_the_village(h: Harness, village: str, household: str) -> None:
    for plot in ("3710821010010000001", h.parcel(h.collective()), "371003"):
        h.refused(
            "homestead.invalid_plot_code",
            village,
            "homestead.granted",
            h.grant_payload(village, household, plot=plot),
        )


def test_a_plot_granted_twice(h: Harness, village: str, household: str) -> None:
    first = h.grant_payload(village, household)
    h.submit(village, "homestead.granted", first)
    other, _ = h.members(village, 1)
    h.refused(
        "homestead.plot_taken",
        village,
        "homestead.granted",
        h.grant_payload(village, other, plot=first["plot_code"]),
    )


@pytest.mark.parametrize(("zone", "cap"), DEFAULT_CAPS.items())
def test_the_area_cap_of_each_zone(h: Harness, village: str, household: str, zone: str, cap: int) -> None:
    refusal = h.refused(
        "homestead.over_cap", village, "homestead.granted", h.grant_payload(village, household, cap + 1, zone)
    )
    assert str(cap) in refusal.message
    h.submit(village, "homestead.granted", h.grant_payload(village, household, cap, zone))


def test_the_caps_are_the_countys_policy(h: Harness, village: str, household: str) -> None:
    h.refused(
        "homestead.over_cap", village, "homestead.granted", h.grant_payload(village, household, 167, "suburb")
    )
    h.set_policy(homestead_cap_m2={**DEFAULT_CAPS, "suburb": 180})
    h.submit(village, "homestead.granted", h.grant_payload(village, household, 180, "suburb"))


def test_a_zone_the_countys_caps_leave_out(h: Harness, village: str, household: str) -> None:
    h.set_policy(homestead_cap_m2={"suburb": 166})
    h.refused(
        "homestead.over_cap", village, "homestead.granted", h.grant_payload(village, household, 100, "plain")
    )


@pytest.mark.parametrize(
    "over", [{"zone": "mountain"}, {"area_m2": 0}, {"certificate_no": "王家老宅"}], ids=repr
)
def test_a_malformed_grant(h: Harness, village: str, household: str, over: dict[str, Any]) -> None:
    h.refused(
        "payload.invalid", village, "homestead.granted", {**h.grant_payload(village, household), **over}
    )


def test_one_household_one_homestead(h: Harness, village: str, household: str) -> None:
    _, held = h.homestead(village, household)
    refusal = h.refused(
        "homestead.already_has_one", village, "homestead.granted", h.grant_payload(village, household)
    )
    assert held in refusal.message


# Transfers


def test_a_homestead_passes_to_a_member_household_and_the_seller_gave_up_its_house(
    h: Harness, village: str, household: str
) -> None:
    _, homestead = h.homestead(village, household)
    buyer, _ = h.members(village, 2)
    changes = h.submit(village, "homestead.transferred", transfer(homestead, buyer))
    assert changes.one(Homestead).household_id == buyer
    assert changes.one(Household).id == household and changes.one(Household).house_given_up is True
    h.refused("homestead.house_given_up", village, "homestead.granted", h.grant_payload(village, household))


def test_a_transfer_to_a_household_without_members(h: Harness, village: str, household: str) -> None:
    _, homestead = h.homestead(village, household)
    outsiders, _ = h.household(village, 2)  # registered, nobody in it admitted
    h.refused(
        "homestead.transferee_not_member", village, "homestead.transferred", transfer(homestead, outsiders)
    )


def test_a_transfer_to_a_household_whose_members_died(h: Harness, village: str, household: str) -> None:
    _, homestead = h.homestead(village, household)
    departed, people = h.members(village, 1)
    h.submit(village, "member.status_changed", {"party": people[0], "reason": "death"})
    h.refused(
        "homestead.transferee_not_member", village, "homestead.transferred", transfer(homestead, departed)
    )


def test_a_transfer_outside_the_collective(h: Harness, village: str, household: str) -> None:
    _, homestead = h.homestead(village, household)
    foreign, _ = h.members(h.collective(), 1)
    for target in (foreign, h.new_id()):
        h.refused(
            "homestead.transferee_not_member", village, "homestead.transferred", transfer(homestead, target)
        )


def test_a_transfer_to_a_household_that_has_one(h: Harness, village: str, household: str) -> None:
    _, homestead = h.homestead(village, household)
    holder, _ = h.homestead(village)
    h.refused("homestead.already_has_one", village, "homestead.transferred", transfer(homestead, holder))


def test_a_transfer_to_a_household_that_gave_up_its_house(h: Harness, village: str, household: str) -> None:
    _, homestead = h.homestead(village, household)
    sold, theirs = h.homestead(village)
    h.submit(village, "homestead.withdrawn", withdrawal(theirs))
    h.refused("homestead.house_given_up", village, "homestead.transferred", transfer(homestead, sold))


def test_a_transfer_to_the_same_household(h: Harness, village: str, household: str) -> None:
    _, homestead = h.homestead(village, household)
    h.refused("homestead.same_household", village, "homestead.transferred", transfer(homestead, household))


def test_a_transfer_of_an_unknown_or_foreign_homestead(h: Harness, village: str, household: str) -> None:
    h.refused("homestead.unknown", village, "homestead.transferred", transfer("H-none", household))
    other = h.collective()
    _, theirs = h.homestead(other)
    h.refused("homestead.unknown", village, "homestead.transferred", transfer(theirs, household))


def test_a_settled_household_sells_its_homestead_to_a_resident_one(h: Harness, village: str) -> None:
    settled, people = h.members(village, 2)
    _, homestead = h.homestead(village, settled)
    h.settle(village, settled, people)
    assert {m.status for m in h.find(Membership, household_id=settled)} == {"settled_in_town"}
    buyer, _ = h.members(village, 1)
    assert (
        h.submit(village, "homestead.transferred", transfer(homestead, buyer)).one(Homestead).household_id
        == buyer
    )


# Withdrawal


@pytest.mark.parametrize("compensation", ["cash", "voucher"])
def test_a_voluntary_paid_withdrawal(h: Harness, village: str, household: str, compensation: str) -> None:
    _, homestead = h.homestead(village, household)
    changes = h.submit(village, "homestead.withdrawn", withdrawal(homestead, compensation, 25_000_000))
    row = changes.one(Homestead)
    assert (row.status, row.compensation, row.compensation_fen) == ("withdrawn", compensation, 25_000_000)
    assert row.withdrawn_seq == changes.seq and row.for_reclamation is True
    assert changes.one(Household).house_given_up is True
    h.refused("homestead.unknown", village, "homestead.withdrawn", withdrawal(homestead, "cash", 1))
    h.refused(
        "homestead.unknown", village, "homestead.transferred", transfer(homestead, h.members(village, 1)[0])
    )
    h.refused("homestead.house_given_up", village, "homestead.granted", h.grant_payload(village, household))


def test_a_settled_household_withdraws(h: Harness, village: str) -> None:
    settled, people = h.members(village, 3)
    _, homestead = h.homestead(village, settled)
    h.settle(village, settled, people)
    assert (
        h.submit(village, "homestead.withdrawn", withdrawal(homestead)).one(Homestead).status == "withdrawn"
    )


def test_another_collectives_homestead_is_not_withdrawn(h: Harness, village: str, household: str) -> None:
    _, homestead = h.homestead(village, household)
    h.refused("homestead.unknown", h.collective(), "homestead.withdrawn", withdrawal(homestead))


@pytest.mark.parametrize("over", [{"compensation": "both"}, {"compensation_fen": -1}], ids=repr)
def test_a_malformed_withdrawal(h: Harness, village: str, household: str, over: dict[str, Any]) -> None:
    _, homestead = h.homestead(village, household)
    h.refused("payload.invalid", village, "homestead.withdrawn", {**withdrawal(homestead), **over})
