"""Settlement certificates, in memory: the collective's membership certificate (集体成员资格证明)
and the township's transfer filing certificate (转移备案证书), each refusal by its code, and the
settled-in-town memberships with rights retained that a filing leaves."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from contracts.certificates import Certificate
from contracts.membership import Membership
from tests.unit.contracts.harness import COUNTY, DOC, NO_RIGHTS, Harness


def township(h: Harness, village: str) -> str:
    parent = h.parents[village]
    assert parent is not None
    return parent


def with_rights(h: Harness, village: str, size: int = 3) -> tuple[str, list[str]]:
    """A household of confirmed members holding a land contract and a homestead."""
    household, people = h.members(village, size)
    h.contracted(village, 1, household=household)
    h.homestead(village, household)
    return household, people


def status(h: Harness, party: str) -> str:
    return h.row(Membership, party).status


# Membership certificates


def test_a_membership_certificate_for_the_whole_household(h: Harness, village: str) -> None:
    household, people = with_rights(h, village)
    payload = h.membership_certificate_payload(household, people)
    changes = h.submit(village, "certificate.membership_issued", payload)
    cert = changes.one(Certificate)
    assert (cert.kind, cert.issuer_id, cert.collective_id, cert.household_id) == (
        "membership",
        village,
        village,
        household,
    )
    assert cert.scope == "household" and cert.persons == sorted(people) and cert.issued_seq == changes.seq
    assert cert.rights == h.rights(household) and len(cert.rights["land_contracts"]) == 1
    assert len(cert.rights["homesteads"]) == 1
    assert cert.valid_until == h.today() + timedelta(days=180)


def test_a_membership_certificate_for_one_person_is_individual(h: Harness, village: str) -> None:
    household, people = with_rights(h, village)
    payload = h.membership_certificate_payload(household, people[1:2])
    assert h.submit(village, "certificate.membership_issued", payload).one(Certificate).scope == "individual"


def test_the_validity_is_the_countys_policy(h: Harness, village: str) -> None:
    household, people = h.members(village, 1)
    h.set_policy(membership_certificate_valid_days=30)
    payload = h.membership_certificate_payload(household, people)
    cert = h.submit(village, "certificate.membership_issued", payload).one(Certificate)
    assert cert.valid_until == h.today() + timedelta(days=30)


def test_only_a_collective_issues_membership_certificates(h: Harness, village: str) -> None:
    household, people = h.members(village, 1)
    payload = h.membership_certificate_payload(household, people)
    h.refused("org.not_a_collective", township(h, village), "certificate.membership_issued", payload)


def test_a_membership_certificate_for_an_unknown_or_foreign_household(h: Harness, village: str) -> None:
    household, people = h.members(village, 1)
    payload = h.membership_certificate_payload(household, people)
    h.refused("household.other_collective", h.collective(), "certificate.membership_issued", payload)
    h.refused(
        "household.unknown", village, "certificate.membership_issued", {**payload, "household": h.new_id()}
    )


def test_a_certificate_id_used_twice(h: Harness, village: str) -> None:
    household, people = h.members(village, 1)
    first = h.membership_certificate(village, household, people)
    again = h.membership_certificate_payload(household, people, certificate=first)
    h.refused("certificate.exists", village, "certificate.membership_issued", again)


def test_a_person_listed_twice(h: Harness, village: str) -> None:
    household, people = h.members(village, 2)
    payload = h.membership_certificate_payload(household, [people[0], people[0]])
    h.refused("certificate.duplicate_person", village, "certificate.membership_issued", payload)


def test_a_person_not_in_the_household(h: Harness, village: str) -> None:
    household, _ = h.members(village, 1)
    _, others = h.members(village, 1)
    payload = h.membership_certificate_payload(household, others)
    h.refused("household.not_a_member", village, "certificate.membership_issued", payload)


def test_a_person_never_admitted(h: Harness, village: str) -> None:
    household, people = h.household(village, 1)
    payload = h.membership_certificate_payload(household, people)
    h.refused("membership.not_a_member", village, "certificate.membership_issued", payload)


def test_a_member_not_yet_confirmed(h: Harness, village: str) -> None:
    household, people = h.household(village, 1)
    h.admit(village, people[0], household)
    payload = h.membership_certificate_payload(household, people)
    h.refused("certificate.not_a_member", village, "certificate.membership_issued", payload)


def test_a_member_whose_membership_ended(h: Harness, village: str) -> None:
    household, people = h.members(village, 2)
    h.submit(village, "member.status_changed", {"party": people[1], "reason": "voluntary_exit"})
    payload = h.membership_certificate_payload(household, people)
    h.refused("membership.not_a_member", village, "certificate.membership_issued", payload)


@pytest.mark.parametrize(
    "claim", ["invented_homestead", "held_contract_left_out", "returned_contract", "withdrawn_homestead"]
)
def test_the_rights_listed_are_the_rights_held(h: Harness, village: str, claim: str) -> None:
    household, people = with_rights(h, village)
    held = h.rights(household)
    if claim == "invented_homestead":
        rights = {**held, "homesteads": [*held["homesteads"], "H-invented"]}
    elif claim == "held_contract_left_out":
        rights = {**held, "land_contracts": []}
    elif claim == "returned_contract":
        [contract] = held["land_contracts"]
        notice = {"contract": contract, "notice_date": "2026-03-01", "effective_date": "2026-09-01"}
        h.submit(village, "land.returned", notice)
        rights = held
    else:
        [homestead] = held["homesteads"]
        h.submit(
            village,
            "homestead.withdrawn",
            {"homestead": homestead, "compensation": "cash", "compensation_fen": 1, "agreement": DOC},
        )
        rights = held
    payload = {**h.membership_certificate_payload(household, people), "rights": rights}
    h.refused("certificate.rights_mismatch", village, "certificate.membership_issued", payload)


def test_a_household_holding_nothing_is_certified_with_no_rights(h: Harness, village: str) -> None:
    household, people = h.members(village, 1)
    payload = h.membership_certificate_payload(household, people)
    assert payload["rights"] == NO_RIGHTS
    assert h.submit(village, "certificate.membership_issued", payload).one(Certificate).rights == NO_RIGHTS


def test_a_settled_member_is_certified_again(h: Harness, village: str) -> None:
    household, people = h.members(village, 2)
    h.settle(village, household, people)
    h.membership_certificate(village, household, people)


# Transfer filing certificates


def filed(h: Harness, village: str, payload: dict[str, Any]) -> Any:
    return h.submit(township(h, village), "certificate.transfer_filed", payload)


def test_a_whole_household_settles_in_town_with_its_rights_retained(h: Harness, village: str) -> None:
    household, people = with_rights(h, village)
    basis = h.membership_certificate(village, household, people)
    payload = h.filing_payload(village, household, people, basis)
    changes = filed(h, village, payload)
    cert = changes.one(Certificate)
    assert (cert.kind, cert.issuer_id, cert.collective_id) == (
        "transfer_filing",
        township(h, village),
        village,
    )
    assert (cert.scope, cert.persons, cert.membership_certificate) == ("household", sorted(people), basis)
    assert cert.rights == h.rights(household) and cert.valid_until is None
    settled = changes.puts(Membership)
    assert {m.party_id for m in settled} == set(people)
    assert all(m.status == "settled_in_town" and m.status_seq == changes.seq for m in settled)


def test_an_individual_settles_and_the_others_stay_active(h: Harness, village: str) -> None:
    household, people = with_rights(h, village)
    basis = h.membership_certificate(village, household, people[:1])
    filed(h, village, h.filing_payload(village, household, people[:1], basis, scope="individual"))
    assert [status(h, p) for p in people] == ["settled_in_town", "active", "active"]


@pytest.mark.parametrize("issuer", ["village", "county", "exchange_center"])
def test_only_a_township_files_transfers(h: Harness, village: str, issuer: str) -> None:
    household, people = h.members(village, 1)
    basis = h.membership_certificate(village, household, people)
    org = {"village": village, "county": COUNTY, "exchange_center": h.exchange_center(township(h, village))}[
        issuer
    ]
    payload = h.filing_payload(village, household, people, basis)
    h.refused("certificate.not_a_township", org, "certificate.transfer_filed", payload)


def test_a_township_files_only_over_its_own_villages(h: Harness, village: str) -> None:
    household, people = h.members(village, 1)
    basis = h.membership_certificate(village, household, people)
    payload = h.filing_payload(village, household, people, basis)
    h.refused("certificate.outside_jurisdiction", h.township(), "certificate.transfer_filed", payload)
    own = township(h, village)
    for not_a_village in ("nowhere", own, h.exchange_center(own)):
        h.refused(
            "certificate.outside_jurisdiction",
            own,
            "certificate.transfer_filed",
            {**payload, "village": not_a_village},
        )


def test_a_filing_id_used_twice(h: Harness, village: str) -> None:
    household, people = h.members(village, 2)
    basis = h.membership_certificate(village, household, people)
    payload = h.filing_payload(village, household, people[:1], basis, scope="individual")
    filed(h, village, payload)
    again = {**payload, "persons": people[1:]}
    h.refused("certificate.exists", township(h, village), "certificate.transfer_filed", again)
    h.refused(
        "certificate.exists",
        township(h, village),
        "certificate.transfer_filed",
        {**again, "certificate": basis},
    )


def test_a_filing_over_another_villages_household(h: Harness, village: str) -> None:
    neighbour = h.collective(township(h, village))
    household, people = h.members(neighbour, 1)
    basis = h.membership_certificate(neighbour, household, people)
    payload = h.filing_payload(village, household, people, basis)
    h.refused("household.other_collective", township(h, village), "certificate.transfer_filed", payload)
    h.refused(
        "household.unknown",
        township(h, village),
        "certificate.transfer_filed",
        {**payload, "household": h.new_id()},
    )


def test_a_whole_household_filing_lists_every_member(h: Harness, village: str) -> None:
    household, people = h.members(village, 3)
    basis = h.membership_certificate(village, household, people)
    refusal = h.refused(
        "certificate.household_incomplete",
        township(h, village),
        "certificate.transfer_filed",
        h.filing_payload(village, household, people[:2], basis),
    )
    assert people[2] in refusal.message


def test_an_individual_filing_lists_one_person(h: Harness, village: str) -> None:
    household, people = h.members(village, 3)
    basis = h.membership_certificate(village, household, people)
    payload = h.filing_payload(village, household, people[:2], basis, scope="individual")
    h.refused(
        "certificate.individual_is_one_person", township(h, village), "certificate.transfer_filed", payload
    )


def test_a_filing_lists_persons_of_the_household_once(h: Harness, village: str) -> None:
    household, people = h.members(village, 2)
    basis = h.membership_certificate(village, household, people)
    twice = h.filing_payload(village, household, [people[0], people[0]], basis, scope="individual")
    h.refused("certificate.duplicate_person", township(h, village), "certificate.transfer_filed", twice)
    _, others = h.members(village, 1)
    stranger = h.filing_payload(village, household, others, basis, scope="individual")
    h.refused("household.not_a_member", township(h, village), "certificate.transfer_filed", stranger)


def test_a_filing_rests_on_a_membership_certificate_of_that_village(h: Harness, village: str) -> None:
    household, people = h.members(village, 2)
    h.submit(village, "assets.verified", h.verification_payload())
    members = [(household, p) for p in people]
    h.submit(village, "shares.quantified", h.scheme_payload(members, collective_units=0))
    share_certificate = "SC-1"
    holdings = {p: 120 for p in people}
    h.submit(
        village,
        "shares.certificate_issued",
        {"certificate": share_certificate, "household": household, "holdings": holdings},
    )
    neighbour = h.collective(township(h, village))
    theirs, their_people = h.members(neighbour, 1)
    foreign_basis = h.membership_certificate(neighbour, theirs, their_people)
    basis = h.membership_certificate(village, household, people[:1])
    first_filing = filed(
        h, village, h.filing_payload(village, household, people[:1], basis, scope="individual")
    )
    for not_a_basis in ("MC-none", foreign_basis, share_certificate, first_filing.one(Certificate).id):
        payload = h.filing_payload(village, household, people[1:], not_a_basis, scope="individual")
        h.refused(
            "certificate.no_membership_certificate",
            township(h, village),
            "certificate.transfer_filed",
            payload,
        )


def test_the_membership_certificate_must_still_be_valid(h: Harness, village: str) -> None:
    household, people = h.members(village, 2)
    basis = h.membership_certificate(village, household, people)
    h.advance(days=180)
    filed(h, village, h.filing_payload(village, household, people[:1], basis, scope="individual"))
    h.advance(days=1)
    payload = h.filing_payload(village, household, people[1:], basis, scope="individual")
    h.refused(
        "certificate.membership_certificate_expired",
        township(h, village),
        "certificate.transfer_filed",
        payload,
    )


def test_the_persons_filed_are_on_the_membership_certificate(h: Harness, village: str) -> None:
    household, people = h.members(village, 2)
    basis = h.membership_certificate(village, household, people[:1])
    payload = h.filing_payload(village, household, people[1:], basis, scope="individual")
    h.refused(
        "certificate.persons_not_certified", township(h, village), "certificate.transfer_filed", payload
    )


def test_a_filing_lists_the_rights_held_now(h: Harness, village: str) -> None:
    household, people = h.members(village, 2)
    basis = h.membership_certificate(village, household, people)
    stale = h.filing_payload(village, household, people, basis)
    h.homestead(village, household)
    h.refused("certificate.rights_mismatch", township(h, village), "certificate.transfer_filed", stale)
    filed(h, village, h.filing_payload(village, household, people, basis))


def test_a_person_settles_once(h: Harness, village: str) -> None:
    household, people = h.members(village, 2)
    basis = h.membership_certificate(village, household, people)
    filed(h, village, h.filing_payload(village, household, people[:1], basis, scope="individual"))
    again = h.filing_payload(village, household, people[:1], basis, scope="individual")
    h.refused("certificate.not_a_member", township(h, village), "certificate.transfer_filed", again)


def test_a_person_whose_membership_ended_after_certification(h: Harness, village: str) -> None:
    household, people = h.members(village, 2)
    basis = h.membership_certificate(village, household, people)
    h.submit(village, "member.status_changed", {"party": people[1], "reason": "public_employment"})
    payload = h.filing_payload(village, household, people[1:], basis, scope="individual")
    h.refused("membership.not_a_member", township(h, village), "certificate.transfer_filed", payload)
