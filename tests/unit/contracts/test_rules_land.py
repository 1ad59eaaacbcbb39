"""Contracted land (issue, extend, transfer the management right, transfer or exchange the
contracting right, return), in memory: each refusal by its code and the contracts, parcels and
transfers the accepted entries leave. Contracts are issued only to households with confirmed
members here; what happens to a household with no member in force is another rule version's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.land import LandContract, ManagementTransfer, Parcel
from contracts.membership import Membership
from tests.unit.contracts.harness import BOUNDS, COOPERATIVE, DOC, Harness


@pytest.fixture
def household(h: Harness, village: str) -> str:
    """A household of two confirmed members."""
    return h.members(village, 2)[0]


def issue(h: Harness, village: str, household: str, **over: Any) -> dict[str, Any]:
    payload = h.contract_payload(village, household, **over)
    h.submit(village, "land.contract_issued", payload)
    return payload


def end_memberships(h: Harness, village: str, household: str) -> None:
    for m in h.find(Membership, household_id=household):
        h.submit(village, "member.status_changed", {"party": m.party_id, "reason": "death"})


# Issuing contracts


def test_a_contract_is_issued_with_its_parcels(h: Harness, village: str, household: str) -> None:
    parcels = [h.parcel(village), h.parcel(village)]
    payload = h.contract_payload(village, household, parcels, area_m2=3335)
    changes = h.submit(village, "land.contract_issued", payload)
    contract = changes.one(LandContract)
    assert (contract.id, contract.collective_id, contract.household_id) == (
        payload["contract"],
        village,
        household,
    )
    assert (contract.status, contract.issued_seq, str(contract.term_end)) == (
        "active",
        changes.seq,
        "2047-12-31",
    )
    rows = {p.code: p for p in changes.puts(Parcel)}
    assert set(rows) == set(parcels)
    assert all(
        p.contract_id == contract.id and p.area_m2 == 3335 and p.boundaries == BOUNDS for p in rows.values()
    )


def test_only_a_collective_issues_contracts(h: Harness, village: str, household: str) -> None:
    township = h.parents[village]
    assert township is not None
    h.refused(
        "org.not_a_collective", township, "land.contract_issued", h.contract_payload(village, household)
    )


def test_a_contract_for_an_unknown_household(h: Harness, village: str) -> None:
    h.refused("household.unknown", village, "land.contract_issued", h.contract_payload(village, h.new_id()))


def test_a_contract_for_another_collectives_household(h: Harness, village: str) -> None:
    other = h.collective()
    theirs, _ = h.members(other, 1)
    h.refused(
        "household.other_collective", village, "land.contract_issued", h.contract_payload(village, theirs)
    )


def test_a_contract_id_used_twice(h: Harness, village: str, household: str) -> None:
    first = issue(h, village, household)
    again = h.contract_payload(village, household, contract=first["contract"])
    h.refused("land.contract_exists", village, "land.contract_issued", again)


@pytest.mark.parametrize("term_end", ["2018-01-01", "2017-12-31"])
def test_a_term_that_ends_before_it_starts(h: Harness, village: str, household: str, term_end: str) -> None:
    payload = h.contract_payload(village, household, term_end=term_end)
    h.refused("land.bad_term", village, "land.contract_issued", payload)


def test_arable_land_is_contracted_for_thirty_years(h: Harness, village: str, household: str) -> None:
    h.refused(
        "land.term_too_long",
        village,
        "land.contract_issued",
        h.contract_payload(village, household, term_end="2048-01-02"),
    )
    issue(h, village, household, term_end="2048-01-01")


def test_thirty_years_from_the_twenty_ninth_of_february(h: Harness, village: str, household: str) -> None:
    too_long = h.contract_payload(village, household, term_start="2020-02-29", term_end="2050-03-01")
    h.refused("land.term_too_long", village, "land.contract_issued", too_long)
    issue(h, village, household, term_start="2020-02-29", term_end="2050-02-28")


def test_other_land_classes_may_run_longer(h: Harness, village: str, household: str) -> None:
    issue(h, village, household, land_class="forest", term_end="2087-12-31")


def test_the_arable_term_is_the_countys_policy(h: Harness, village: str, household: str) -> None:
    h.set_policy(arable_contract_years=20)
    h.refused("land.term_too_long", village, "land.contract_issued", h.contract_payload(village, household))
    issue(h, village, household, term_end="2038-01-01")


def test_a_parcel_code_outside_the_village(h: Harness, village: str, household: str) -> None:
    for code in ("3710821010010000001", h.parcel(h.collective()), "37100312345", "371003A23456789012X"):
        payload = h.contract_payload(village, household, [code])
        h.refused("land.invalid_parcel_code", village, "land.contract_issued", payload)


def test_a_parcel_under_two_contracts(h: Harness, village: str, household: str) -> None:
    first = issue(h, village, household)
    other, _ = h.members(village, 1)
    taken = h.contract_payload(village, other, [first["parcels"][0]["code"]])
    h.refused("land.parcel_taken", village, "land.contract_issued", taken)


def test_a_parcel_listed_twice(h: Harness, village: str, household: str) -> None:
    code = h.parcel(village)
    h.refused(
        "land.parcel_taken",
        village,
        "land.contract_issued",
        h.contract_payload(village, household, [code, code]),
    )


@pytest.mark.parametrize(
    "boundary",
    ["东至张三地", "road ", "37100310010000001", "neighbour"],
)
def test_a_boundary_is_a_parcel_code_or_a_listed_feature(
    h: Harness, village: str, household: str, boundary: str
) -> None:
    payload = h.contract_payload(village, household)
    payload["parcels"][0]["boundaries"] = {**BOUNDS, "east": boundary}
    h.refused("payload.invalid", village, "land.contract_issued", payload)


def test_a_boundary_may_name_the_neighbouring_parcel(h: Harness, village: str, household: str) -> None:
    payload = h.contract_payload(village, household)
    payload["parcels"][0]["boundaries"] = {**BOUNDS, "east": h.parcel(village)}
    h.submit(village, "land.contract_issued", payload)


@pytest.mark.parametrize("number", ["鲁(2020)文登区不动产权第0001234号", "371003-2018/0042"])
def test_a_certificate_number_in_either_form(h: Harness, village: str, household: str, number: str) -> None:
    payload = {**h.contract_payload(village, household), "certificate_no": number}
    assert h.submit(village, "land.contract_issued", payload).one(LandContract).certificate_no == number


@pytest.mark.parametrize("number", ["张三的承包证", "鲁(2020)文登区不动产权第12号", ""])
def test_a_certificate_number_is_never_free_text(
    h: Harness, village: str, household: str, number: str
) -> None:
    payload = {**h.contract_payload(village, household), "certificate_no": number}
    h.refused("payload.invalid", village, "land.contract_issued", payload)


def test_a_contract_without_parcels_or_with_no_area(h: Harness, village: str, household: str) -> None:
    h.refused("payload.invalid", village, "land.contract_issued", h.contract_payload(village, household, []))
    h.refused(
        "payload.invalid", village, "land.contract_issued", h.contract_payload(village, household, area_m2=0)
    )


# Extending


def test_an_extension_by_up_to_thirty_years(h: Harness, village: str) -> None:
    _, contract, _ = h.contracted(village)
    h.refused(
        "land.bad_extension",
        village,
        "land.contract_extended",
        {"contract": contract, "term_end": "2078-01-01"},
    )
    changes = h.submit(village, "land.contract_extended", {"contract": contract, "term_end": "2077-12-31"})
    assert str(changes.one(LandContract).term_end) == "2077-12-31"


@pytest.mark.parametrize("term_end", ["2047-12-31", "2040-01-01"])
def test_an_extension_ends_later_than_the_term(h: Harness, village: str, term_end: str) -> None:
    _, contract, _ = h.contracted(village)
    h.refused(
        "land.bad_extension", village, "land.contract_extended", {"contract": contract, "term_end": term_end}
    )


def test_the_extension_is_the_countys_policy(h: Harness, village: str) -> None:
    _, contract, _ = h.contracted(village)
    h.set_policy(contract_extension_years=10)
    h.refused(
        "land.bad_extension",
        village,
        "land.contract_extended",
        {"contract": contract, "term_end": "2058-01-01"},
    )
    h.submit(village, "land.contract_extended", {"contract": contract, "term_end": "2057-12-31"})


def test_an_unknown_contract(h: Harness, village: str) -> None:
    h.refused(
        "land.unknown_contract",
        village,
        "land.contract_extended",
        {"contract": "nope", "term_end": "2050-01-01"},
    )


def test_another_collectives_contract(h: Harness, village: str) -> None:
    _, contract, _ = h.contracted(village)
    h.refused(
        "land.unknown_contract",
        h.collective(),
        "land.contract_extended",
        {"contract": contract, "term_end": "2050-01-01"},
    )


# Transferring the management right


def test_a_lease_to_a_cooperative(h: Harness, village: str) -> None:
    _, contract, parcels = h.contracted(village)
    payload = h.lease_payload(contract, parcels[:1])
    changes = h.submit(village, "land.management_transferred", payload)
    transfer = changes.one(ManagementTransfer)
    assert (transfer.contract_id, transfer.mode, transfer.parcels) == (contract, "lease", parcels[:1])
    assert (transfer.transferee, transfer.transferee_name) == (
        COOPERATIVE["credit_code"],
        COOPERATIVE["name"],
    )
    assert transfer.filed_seq == changes.seq


@pytest.mark.parametrize("mode", ["subcontract", "shares"])
def test_a_subcontract_or_shares_to_a_registered_farmer(h: Harness, village: str, mode: str) -> None:
    _, contract, parcels = h.contracted(village)
    farmer = h.person(village)
    payload = h.lease_payload(contract, parcels, mode=mode, transferee={"type": "party", "party": farmer})
    transfer = h.submit(village, "land.management_transferred", payload).one(ManagementTransfer)
    assert (transfer.transferee, transfer.transferee_name, transfer.mode) == (farmer, None, mode)


def test_a_transfer_id_used_twice(h: Harness, village: str) -> None:
    _, contract, parcels = h.contracted(village)
    payload = h.lease_payload(contract, parcels[:1])
    h.submit(village, "land.management_transferred", payload)
    h.refused(
        "land.transfer_exists", village, "land.management_transferred", {**payload, "parcels": parcels[1:]}
    )


def test_a_transfer_keeps_the_land_in_agricultural_use(h: Harness, village: str) -> None:
    _, contract, parcels = h.contracted(village)
    payload = h.lease_payload(contract, parcels, agricultural_use=False)
    h.refused("land.use_change_forbidden", village, "land.management_transferred", payload)


def test_a_transfer_term_that_ends_before_it_starts(h: Harness, village: str) -> None:
    _, contract, parcels = h.contracted(village)
    payload = h.lease_payload(contract, parcels, term_end="2026-03-01")
    h.refused("land.bad_term", village, "land.management_transferred", payload)


def test_a_transfer_within_the_contract_term(h: Harness, village: str) -> None:
    _, contract, parcels = h.contracted(village)
    refusal = h.refused(
        "land.term_exceeds_contract",
        village,
        "land.management_transferred",
        h.lease_payload(contract, parcels, "2048-01-01"),
    )
    assert "2047-12-31" in refusal.message
    h.submit(village, "land.management_transferred", h.lease_payload(contract, parcels, "2047-12-31"))


def test_a_transfer_of_a_parcel_outside_the_contract(h: Harness, village: str) -> None:
    _, contract, _ = h.contracted(village)
    _, _, others = h.contracted(village)
    h.refused(
        "land.parcel_not_in_contract",
        village,
        "land.management_transferred",
        h.lease_payload(contract, others),
    )
    h.refused(
        "land.parcel_not_in_contract",
        village,
        "land.management_transferred",
        h.lease_payload(contract, [h.parcel(village)]),
    )


def test_a_parcel_is_under_one_transfer_at_a_time(h: Harness, village: str) -> None:
    _, contract, parcels = h.contracted(village)
    h.submit(village, "land.management_transferred", h.lease_payload(contract, parcels[:1]))
    h.refused(
        "land.parcel_already_transferred",
        village,
        "land.management_transferred",
        h.lease_payload(contract, parcels),
    )
    h.submit(village, "land.management_transferred", h.lease_payload(contract, parcels[1:]))
    later = h.lease_payload(contract, parcels, term_start="2031-01-01", term_end="2035-12-31", mode="shares")
    h.submit(village, "land.management_transferred", later)
    overlapping = h.lease_payload(contract, parcels[1:], term_start="2035-06-01", term_end="2040-12-31")
    h.refused("land.parcel_already_transferred", village, "land.management_transferred", overlapping)


def test_a_transferee_is_a_registered_person_or_a_coded_entity(h: Harness, village: str) -> None:
    _, contract, parcels = h.contracted(village)
    unknown = {"type": "party", "party": h.new_id()}
    h.refused(
        "land.unknown_transferee",
        village,
        "land.management_transferred",
        h.lease_payload(contract, parcels, transferee=unknown),
    )
    code = str(COOPERATIVE["credit_code"])
    bad = {**COOPERATIVE, "credit_code": code[:-1] + ("0" if code[-1] != "0" else "1")}
    h.refused(
        "land.unknown_transferee",
        village,
        "land.management_transferred",
        h.lease_payload(contract, parcels, transferee=bad),
    )


@pytest.mark.parametrize(
    "over",
    [
        {"transferee": {"type": "entity", "name": "张三"}},
        {"transferee": {"type": "person", "party": "00000000-0000-4000-8000-000000000001"}},
        {"mode": "sale"},
        {"parcels": []},
        {"written_contract": "signed on paper"},
    ],
    ids=repr,
)
def test_a_malformed_transfer(h: Harness, village: str, over: dict[str, Any]) -> None:
    _, contract, parcels = h.contracted(village)
    payload = {**h.lease_payload(contract, parcels), **over}
    h.refused("payload.invalid", village, "land.management_transferred", payload)


def test_a_settled_household_still_leases_its_land(h: Harness, village: str) -> None:
    household, people = h.members(village, 2)
    _, contract, parcels = h.contracted(village, household=household)
    h.settle(village, household, people)
    h.submit(village, "land.management_transferred", h.lease_payload(contract, parcels))


# Transferring and exchanging the contracting right


def test_the_contracting_right_passes_to_a_member_household(h: Harness, village: str) -> None:
    _, contract, parcels = h.contracted(village)
    buyer, _ = h.members(village, 1)
    changes = h.submit(
        village,
        "land.contracting_right_transferred",
        {"contract": contract, "to_household": buyer, "consent": DOC},
    )
    assert changes.one(LandContract).household_id == buyer
    assert {p.contract_id for p in h.rows(Parcel) if p.code in parcels} == {contract}
    h.refused(
        "land.same_household",
        village,
        "land.contracting_right_transferred",
        {"contract": contract, "to_household": buyer, "consent": DOC},
    )


def test_the_contracting_right_never_passes_to_a_non_member_household(h: Harness, village: str) -> None:
    _, contract, _ = h.contracted(village)
    outsiders, _ = h.household(village, 2)  # registered, nobody in it admitted
    departed, _ = h.members(village, 1)
    end_memberships(h, village, departed)
    foreign, _ = h.members(h.collective(), 1)
    for target in (outsiders, departed, foreign, h.new_id()):
        h.refused(
            "land.transferee_not_member",
            village,
            "land.contracting_right_transferred",
            {"contract": contract, "to_household": target, "consent": DOC},
        )


def test_two_member_households_exchange_parcels(h: Harness, village: str) -> None:
    _, a, pa = h.contracted(village)
    _, b, pb = h.contracted(village)
    exchange = {
        "contract": a,
        "parcels": pa[:1],
        "other_contract": b,
        "other_parcels": pb[:1],
        "consent": DOC,
    }
    changes = h.submit(village, "land.contracts_exchanged", exchange)
    moved = {p.code: p.contract_id for p in changes.puts(Parcel)}
    assert moved == {pa[0]: b, pb[0]: a}
    h.refused("land.parcel_not_in_contract", village, "land.contracts_exchanged", exchange)


def test_an_exchange_is_between_two_households(h: Harness, village: str, household: str) -> None:
    _, a, pa = h.contracted(village, household=household)
    _, b, pb = h.contracted(village, household=household)
    exchange = {
        "contract": a,
        "parcels": pa[:1],
        "other_contract": b,
        "other_parcels": pb[:1],
        "consent": DOC,
    }
    h.refused("land.same_household", village, "land.contracts_exchanged", exchange)


def test_an_exchange_needs_both_households_members(h: Harness, village: str) -> None:
    _, a, pa = h.contracted(village)
    departed, b, pb = h.contracted(village)
    end_memberships(h, village, departed)
    exchange = {"contract": a, "parcels": pa, "other_contract": b, "other_parcels": pb, "consent": DOC}
    h.refused("land.transferee_not_member", village, "land.contracts_exchanged", exchange)


def test_an_exchange_with_an_unknown_contract(h: Harness, village: str) -> None:
    _, a, pa = h.contracted(village)
    exchange = {"contract": a, "parcels": pa, "other_contract": "C-none", "other_parcels": pa, "consent": DOC}
    h.refused("land.unknown_contract", village, "land.contracts_exchanged", exchange)


# Returning land


def test_a_return_takes_effect_six_months_after_written_notice(h: Harness, village: str) -> None:
    _, contract, _ = h.contracted(village)
    early = {"contract": contract, "notice_date": "2026-03-01", "effective_date": "2026-08-31"}
    h.refused("land.return_notice_too_short", village, "land.returned", early)
    changes = h.submit(village, "land.returned", {**early, "effective_date": "2026-09-01"})
    returned = changes.one(LandContract)
    assert (returned.status, str(returned.returned_on)) == ("returned", "2026-09-01")


def test_six_months_from_the_end_of_august(h: Harness, village: str) -> None:
    _, contract, _ = h.contracted(village)
    notice = {"contract": contract, "notice_date": "2025-08-31"}
    h.refused(
        "land.return_notice_too_short", village, "land.returned", {**notice, "effective_date": "2026-02-27"}
    )
    h.submit(village, "land.returned", {**notice, "effective_date": "2026-02-28"})


def test_the_return_notice_is_the_countys_policy(h: Harness, village: str) -> None:
    _, contract, _ = h.contracted(village)
    h.set_policy(land_return_notice_months=12)
    notice = {"contract": contract, "notice_date": "2026-03-01", "effective_date": "2026-09-01"}
    h.refused("land.return_notice_too_short", village, "land.returned", notice)
    h.submit(village, "land.returned", {**notice, "effective_date": "2027-03-01"})


def test_a_return_notice_dated_in_the_future(h: Harness, village: str) -> None:
    _, contract, _ = h.contracted(village)
    tomorrow = h.today() + timedelta(days=1)
    future = {
        "contract": contract,
        "notice_date": str(tomorrow),
        "effective_date": str(tomorrow + timedelta(days=200)),
    }
    h.refused("land.bad_notice_date", village, "land.returned", future)


def test_returned_land_is_no_longer_the_households(h: Harness, village: str) -> None:
    household, contract, parcels = h.contracted(village)
    h.submit(
        village,
        "land.returned",
        {"contract": contract, "notice_date": "2026-03-01", "effective_date": "2026-09-01"},
    )
    for kind, payload in [
        ("land.contract_extended", {"contract": contract, "term_end": "2050-01-01"}),
        ("land.management_transferred", h.lease_payload(contract, parcels)),
        (
            "land.returned",
            {"contract": contract, "notice_date": "2026-03-01", "effective_date": "2026-09-01"},
        ),
        (
            "land.contracting_right_transferred",
            {"contract": contract, "to_household": household, "consent": DOC},
        ),
    ]:
        h.refused("land.contract_not_active", village, kind, payload)


def test_no_new_land_during_the_returned_term(h: Harness, village: str) -> None:
    household, contract, _ = h.contracted(village)
    h.submit(
        village,
        "land.returned",
        {"contract": contract, "notice_date": "2026-03-01", "effective_date": "2026-09-01"},
    )
    h.refused(
        "land.returned_no_new_land", village, "land.contract_issued", h.contract_payload(village, household)
    )
    h.clock.set(datetime(2048, 1, 2, 8, 0, tzinfo=UTC))
    issue(h, village, household, term_start="2048-01-02", term_end="2078-01-01")


@pytest.mark.parametrize("version", [2, 3])
def test_returned_land_can_be_contracted_to_another_household(version: int) -> None:
    """Version 3: once a return took effect its parcels are contracted again (before it, and
    under versions 1-2, whose rule saw a returned contract's parcels taken forever, they are
    land.parcel_taken)."""
    h = Harness(rules_version=version)
    village = h.collective()
    _, contract, parcels = h.contracted(village)
    h.submit(
        village,
        "land.returned",
        {"contract": contract, "notice_date": "2026-03-01", "effective_date": "2026-09-01"},
    )
    other, _ = h.members(village, 1)
    early = h.contract_payload(village, other, parcels, term_start="2026-09-02", term_end="2056-09-01")
    h.refused("land.parcel_taken", village, "land.contract_issued", early)
    h.clock.set(datetime(2026, 9, 2, 8, 0, tzinfo=UTC))
    payload = h.contract_payload(village, other, parcels, term_start="2026-09-02", term_end="2056-09-01")
    if version < 3:
        h.refused("land.parcel_taken", village, "land.contract_issued", payload)
        return
    h.submit(village, "land.contract_issued", payload)
    assert {h.row(Parcel, code).contract_id for code in parcels} == {payload["contract"]}


def test_a_leased_parcel_is_not_leased_again_after_an_exchange(h: Harness, village: str) -> None:
    """Version 3 refuses to exchange a parcel under a running lease (land.parcel_under_transfer),
    so its lease cannot be bypassed by leasing it again under the other contract."""
    _, a, pa = h.contracted(village)
    _, b, pb = h.contracted(village)
    h.submit(village, "land.management_transferred", h.lease_payload(a, pa[:1]))
    exchange = {
        "contract": a,
        "parcels": pa[:1],
        "other_contract": b,
        "other_parcels": pb[:1],
        "consent": DOC,
    }
    h.refused("land.parcel_under_transfer", village, "land.contracts_exchanged", exchange)
    h.clock.set(datetime(2031, 1, 1, 8, 0, tzinfo=UTC))  # the lease ended on 2030-12-31
    h.submit(village, "land.contracts_exchanged", exchange)
    assert h.row(Parcel, pa[0]).contract_id == b
