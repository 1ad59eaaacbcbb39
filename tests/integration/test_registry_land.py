"""Contracted land and homestead rules, each violation through the HTTP API."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.integration.registry_checks import refused
from tests.registry_support import Village, hexdigest, village
from tests.support import LedgerFixture, credit_code

_n = itertools.count(1)
COOPERATIVE = {
    "type": "entity",
    "name": "文登丰收果蔬专业合作社",
    "credit_code": credit_code("93", "371003", 1),
}
BOUNDS = {"east": "road", "south": "ditch", "west": "other", "north": "river"}


@pytest.fixture(scope="module")
async def v(ledger: LedgerFixture) -> Village:
    return await village(ledger, "mashan", "mashan-shangzhuang")


def contract(
    v: Village,
    household: str,
    *parcels: str,
    term_end: str = "2047-12-31",
    land_class: str = "arable",
    cid: str | None = None,
) -> dict[str, Any]:
    return {
        "contract": cid or f"C{next(_n)}",
        "household": household,
        "certificate_no": f"CERT-{next(_n)}",
        "term_start": "2018-01-01",
        "term_end": term_end,
        "parcels": [
            {"code": p, "area_m2": 2000, "land_class": land_class, "boundaries": BOUNDS} for p in parcels
        ],
    }


async def contracted(v: Village, n_parcels: int = 2) -> tuple[str, str, list[str]]:
    household, _ = await v.members(2)
    parcels = [v.parcel(next(_n)) for _ in range(n_parcels)]
    payload = contract(v, household, *parcels)
    await v.append("land.contract_issued", payload)
    return household, payload["contract"], parcels


def lease(contract_id: str, parcels: list[str], term_end: str = "2030-12-31", **over: Any) -> dict[str, Any]:
    return {
        "transfer": f"T{next(_n)}",
        "contract": contract_id,
        "mode": "lease",
        "transferee": COOPERATIVE,
        "parcels": parcels,
        "term_start": "2026-03-01",
        "term_end": term_end,
        "agricultural_use": True,
        "written_contract": hexdigest("lease"),
        "household_consent": hexdigest("consent"),
        **over,
    }


async def test_lease_beyond_contract_term(v: Village) -> None:
    _, cid, parcels = await contracted(v)
    body = await refused(
        v, "land.management_transferred", lease(cid, parcels[:1], "2048-01-01"), "land.term_exceeds_contract"
    )
    assert "2047-12-31" in body["detail"]
    await v.append("land.management_transferred", lease(cid, parcels[:1], "2047-12-31"))


async def test_lease_must_keep_agricultural_use(v: Village) -> None:
    _, cid, parcels = await contracted(v)
    await refused(
        v,
        "land.management_transferred",
        lease(cid, parcels, agricultural_use=False),
        "land.use_change_forbidden",
    )


async def test_parcel_leased_twice_for_overlapping_terms(v: Village) -> None:
    _, cid, parcels = await contracted(v)
    await v.append("land.management_transferred", lease(cid, parcels[:1]))
    await refused(v, "land.management_transferred", lease(cid, parcels), "land.parcel_already_transferred")
    later = lease(cid, parcels, term_start="2031-01-01", term_end="2035-12-31", mode="shares")
    await v.append("land.management_transferred", later)
    await refused(
        v,
        "land.management_transferred",
        {**later, "transfer": f"T{next(_n)}"},
        "land.parcel_already_transferred",
    )
    await refused(v, "land.management_transferred", {**later}, "land.transfer_exists")


async def test_lease_of_a_parcel_outside_the_contract(v: Village) -> None:
    _, cid, _ = await contracted(v)
    _, _, others = await contracted(v)
    await refused(v, "land.management_transferred", lease(cid, others), "land.parcel_not_in_contract")


async def test_contracting_right_to_a_non_member_household(v: Village, ledger: LedgerFixture) -> None:
    _, cid, _ = await contracted(v)
    outsiders, _ = await v.household(2)  # registered, but nobody in it is a member
    await refused(
        v,
        "land.contracting_right_transferred",
        {"contract": cid, "to_household": outsiders, "consent": hexdigest("c")},
        "land.transferee_not_member",
    )
    elsewhere = await village(ledger, "mashan", "mashan-xiazhuang")
    foreign, _ = await elsewhere.members(1)
    await refused(
        v,
        "land.contracting_right_transferred",
        {"contract": cid, "to_household": foreign, "consent": hexdigest("c")},
        "land.transferee_not_member",
    )
    members, _ = await v.members(1)
    await v.append(
        "land.contracting_right_transferred",
        {"contract": cid, "to_household": members, "consent": hexdigest("c")},
    )
    await refused(
        v,
        "land.contracting_right_transferred",
        {"contract": cid, "to_household": members, "consent": hexdigest("c")},
        "land.same_household",
    )


async def test_exchange_between_member_households(v: Village) -> None:
    _, a, pa = await contracted(v)
    _, b, pb = await contracted(v)
    await v.append(
        "land.contracts_exchanged",
        {
            "contract": a,
            "parcels": pa[:1],
            "other_contract": b,
            "other_parcels": pb[:1],
            "consent": hexdigest("x"),
        },
    )
    await refused(
        v,
        "land.contracts_exchanged",
        {
            "contract": a,
            "parcels": pa[:1],
            "other_contract": b,
            "other_parcels": pb[1:],
            "consent": hexdigest("x"),
        },
        "land.parcel_not_in_contract",
    )


async def test_parcel_under_two_contracts(v: Village) -> None:
    _, _, parcels = await contracted(v)
    household, _ = await v.members(1)
    await refused(v, "land.contract_issued", contract(v, household, parcels[0]), "land.parcel_taken")


async def test_parcel_code_outside_the_village(v: Village) -> None:
    household, _ = await v.members(1)
    await refused(
        v, "land.contract_issued", contract(v, household, "3710821010010000001"), "land.invalid_parcel_code"
    )


async def test_arable_term_over_thirty_years(v: Village) -> None:
    household, _ = await v.members(1)
    await refused(
        v,
        "land.contract_issued",
        contract(v, household, v.parcel(next(_n)), term_end="2049-01-01"),
        "land.term_too_long",
    )


async def test_contract_id_reused(v: Village) -> None:
    household, cid, _ = await contracted(v)
    await refused(
        v, "land.contract_issued", contract(v, household, v.parcel(next(_n)), cid=cid), "land.contract_exists"
    )


async def test_term_ends_before_it_starts(v: Village) -> None:
    household, _ = await v.members(1)
    await refused(
        v,
        "land.contract_issued",
        contract(v, household, v.parcel(next(_n)), term_end="2017-01-01"),
        "land.bad_term",
    )


async def test_extension(v: Village) -> None:
    _, cid, _ = await contracted(v)
    await refused(
        v, "land.contract_extended", {"contract": cid, "term_end": "2078-01-01"}, "land.bad_extension"
    )
    await v.append("land.contract_extended", {"contract": cid, "term_end": "2077-12-31"})


async def test_return_needs_six_months_notice_and_blocks_new_land(v: Village) -> None:
    household, cid, _ = await contracted(v)
    await refused(
        v,
        "land.returned",
        {"contract": cid, "notice_date": "2026-03-01", "effective_date": "2026-08-31"},
        "land.return_notice_too_short",
    )
    await refused(
        v,
        "land.returned",
        {"contract": cid, "notice_date": "2027-03-01", "effective_date": "2027-09-01"},
        "land.bad_notice_date",
    )
    await v.append(
        "land.returned", {"contract": cid, "notice_date": "2026-03-01", "effective_date": "2026-09-01"}
    )
    await refused(
        v, "land.contract_extended", {"contract": cid, "term_end": "2050-01-01"}, "land.contract_not_active"
    )
    await refused(
        v, "land.contract_issued", contract(v, household, v.parcel(next(_n))), "land.returned_no_new_land"
    )


async def test_unknown_contract(v: Village) -> None:
    await refused(
        v, "land.contract_extended", {"contract": "nope", "term_end": "2050-01-01"}, "land.unknown_contract"
    )


# Homesteads


def grant(
    household: str,
    v: Village,
    area: int = 150,
    zone: str = "plain",
    hid: str | None = None,
    plot: str | None = None,
) -> dict[str, Any]:
    return {
        "homestead": hid or f"H{next(_n)}",
        "household": household,
        "plot_code": plot or v.parcel(500000 + next(_n)),
        "area_m2": area,
        "zone": zone,
        "certificate_no": f"ZJ{next(_n)}",
    }


async def test_homestead_over_the_zone_cap(v: Village, ledger: LedgerFixture) -> None:
    household, _ = await v.members(1)
    body = await refused(v, "homestead.granted", grant(household, v, 167, "suburb"), "homestead.over_cap")
    assert "166" in body["detail"]
    await refused(v, "homestead.granted", grant(household, v, 201, "plain"), "homestead.over_cap")
    await ledger.client.append(
        ledger.keys["county"],
        "policy.set",
        {
            "numbers": {
                "homestead_cap_m2": {
                    "suburb": 180,
                    "plain": 200,
                    "plain_saline": 264,
                    "hilly_flat": 132,
                    "hilly_slope": 264,
                }
            }
        },
    )
    await v.append("homestead.granted", grant(household, v, 167, "suburb"))


async def test_second_homestead(v: Village) -> None:
    household, _ = await v.members(1)
    await v.append("homestead.granted", grant(household, v))
    await refused(v, "homestead.granted", grant(household, v), "homestead.already_has_one")


async def test_homestead_plot_taken_and_id_reused(v: Village) -> None:
    a, _ = await v.members(1)
    b, _ = await v.members(1)
    first = grant(a, v)
    await v.append("homestead.granted", first)
    await refused(v, "homestead.granted", grant(b, v, plot=first["plot_code"]), "homestead.plot_taken")
    await refused(v, "homestead.granted", grant(b, v, hid=first["homestead"]), "homestead.exists")
    await refused(
        v, "homestead.granted", grant(b, v, plot="3710821010010000001"), "homestead.invalid_plot_code"
    )


async def test_homestead_transfer_only_to_member_household(v: Village) -> None:
    seller, _ = await v.members(1)
    h = grant(seller, v)
    await v.append("homestead.granted", h)
    outsiders, _ = await v.household(1)
    await refused(
        v,
        "homestead.transferred",
        {"homestead": h["homestead"], "to_household": outsiders, "agreement": hexdigest("a")},
        "homestead.transferee_not_member",
    )
    holder, _ = await v.members(1)
    await v.append("homestead.granted", grant(holder, v))
    await refused(
        v,
        "homestead.transferred",
        {"homestead": h["homestead"], "to_household": holder, "agreement": hexdigest("a")},
        "homestead.already_has_one",
    )
    buyer, _ = await v.members(1)
    await v.append(
        "homestead.transferred",
        {"homestead": h["homestead"], "to_household": buyer, "agreement": hexdigest("a")},
    )
    # The seller sold its house: no new homestead for it.
    await refused(v, "homestead.granted", grant(seller, v), "homestead.house_given_up")


async def test_homestead_withdrawal(v: Village) -> None:
    household, _ = await v.members(1)
    h = grant(household, v)
    await v.append("homestead.granted", h)
    await v.append(
        "homestead.withdrawn",
        {
            "homestead": h["homestead"],
            "compensation": "voucher",
            "compensation_fen": 30_000_000,
            "agreement": hexdigest("w"),
        },
    )
    await refused(
        v,
        "homestead.withdrawn",
        {
            "homestead": h["homestead"],
            "compensation": "cash",
            "compensation_fen": 1,
            "agreement": hexdigest("w"),
        },
        "homestead.unknown",
    )
    await refused(v, "homestead.granted", grant(household, v), "homestead.house_given_up")


async def test_homestead_for_another_collectives_household(v: Village, ledger: LedgerFixture) -> None:
    other = await village(ledger, "mashan", "mashan-beizhuang")
    household, _ = await other.members(1)
    await refused(v, "homestead.granted", grant(household, v), "household.other_collective")


async def test_homestead_to_the_same_household(v: Village) -> None:
    household, _ = await v.members(1)
    h = grant(household, v)
    await v.append("homestead.granted", h)
    await refused(
        v,
        "homestead.transferred",
        {"homestead": h["homestead"], "to_household": household, "agreement": hexdigest("a")},
        "homestead.same_household",
    )


async def test_lease_to_a_registered_person_or_a_coded_entity_only(v: Village) -> None:
    _, cid, parcels = await contracted(v)
    unknown = {"type": "party", "party": "00000000-0000-4000-8000-000000000999"}
    await refused(
        v,
        "land.management_transferred",
        lease(cid, parcels[:1], transferee=unknown),
        "land.unknown_transferee",
    )
    bad_code = {**COOPERATIVE, "credit_code": COOPERATIVE["credit_code"][:-1] + "0"}
    if bad_code["credit_code"] == COOPERATIVE["credit_code"]:
        bad_code["credit_code"] = COOPERATIVE["credit_code"][:-1] + "1"
    await refused(
        v,
        "land.management_transferred",
        lease(cid, parcels[:1], transferee=bad_code),
        "land.unknown_transferee",
    )
    by_name = {"type": "entity", "name": "张三"}  # a bare name is not a transferee
    await refused(
        v, "land.management_transferred", lease(cid, parcels[:1], transferee=by_name), "payload.invalid"
    )
    farmer = await v.person()
    await v.append(
        "land.management_transferred",
        lease(cid, parcels[:1], transferee={"type": "party", "party": farmer.party}),
    )
