"""Shareholding through the HTTP API: each violation by name, and the share routes."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.integration.registry_checks import refused
from tests.registry_support import Village, hexdigest, village
from tests.support import LedgerFixture

H = hexdigest("doc")
BANK = "91371003000008801N"  # the lender: a bank's unified social credit code


class Collective:
    def __init__(self, v: Village, households: list[tuple[str, list[Any]]]) -> None:
        self.v = v
        self.households = households
        self.members = [(h, p.party) for h, people in households for p in people]


@pytest.fixture(scope="module")
async def c(ledger: LedgerFixture) -> Collective:
    v = await village(ledger, "shares-town", "shares-village")
    households = [await v.members(4) for _ in range(6)]  # 24 members
    await v.append(
        "assets.verified",
        {
            "verification": "AV-2025",
            "as_of": "2025-12-31",
            "operating_assets": [
                {"category": "factory_rental", "value_fen": 80_000_000},
                {"category": "enterprise_equity", "value_fen": 40_000_000},
            ],
            "liabilities_fen": 20_000_000,
            "resource_assets": [{"category": "collective_forest", "area_m2": 200_000}],
            "non_operating_assets": [{"category": "village_office", "value_fen": 3_000_000}],
            "audit_statement": H,
        },
    )
    return Collective(v, households)


def scheme(c: Collective, **over: Any) -> dict[str, Any]:
    allocations = [
        {"party": p, "household": h, "basic_units": 100, "labour_years": 2, "labour_units": 20}
        for h, p in c.members
    ]
    payload = {
        "scheme": "S-1",
        "verification": "AV-2025",
        "scheme_date": c.v.fx.clock().date().isoformat(),
        "basic_units_per_member": 100,
        "labour_units_per_year": 10,
        "collective_units": 720,
        "total_units": 120 * len(allocations) + 720,
        "allocations": allocations,
    }
    payload.update(over)
    return payload


async def test_quantification_violations_then_quantify(c: Collective, ledger: LedgerFixture) -> None:
    v = c.v
    await refused(v, "shares.quantified", scheme(c, total_units=10_000), "shares.allocation_mismatch")
    bad = scheme(c)
    bad["allocations"][0]["labour_units"] = 25
    await refused(v, "shares.quantified", bad, "shares.labour_rule_mismatch")
    bad = scheme(c)
    bad["allocations"][1]["basic_units"] = 120
    bad["allocations"][1]["labour_units"] = 0
    bad["allocations"][1]["labour_years"] = 0
    await refused(v, "shares.quantified", bad, "shares.basic_units_unequal")
    outsider = await v.person()
    bad = scheme(c)
    bad["allocations"].append(
        {
            "party": outsider.party,
            "household": c.members[0][0],
            "basic_units": 100,
            "labour_years": 0,
            "labour_units": 0,
        }
    )
    bad["total_units"] += 100
    await refused(v, "shares.quantified", bad, "shares.not_a_member")
    await refused(
        v,
        "shares.quantified",
        scheme(c, collective_units=1500, total_units=120 * 24 + 1500),
        "shares.collective_share_over_cap",
    )
    await refused(v, "shares.quantified", scheme(c, verification="AV-none"), "assets.unknown")
    await v.append("shares.quantified", scheme(c))
    await refused(v, "shares.quantified", scheme(c), "shares.already_quantified")
    table = await ledger.client.get(f"/v1/shares/collectives/{v.village}")
    assert table["scheme"]["total_units"] == 3600
    assert sum(h["units"] for h in table["holders"]) == 3600


async def test_transfer_only_to_members_and_within_cap(c: Collective) -> None:
    v = c.v
    (_, a), (_, b) = c.members[0], c.members[1]
    outsider = await v.person()
    await refused(
        v,
        "shares.transferred",
        {"holder": a, "to": outsider.party, "units": 10, "price_fen": 1000, "agreement": H},
        "shares.transferee_not_member",
    )
    await refused(
        v,
        "shares.transferred",
        {"holder": a, "to": b, "units": 61, "price_fen": 1, "agreement": H},
        "shares.over_holder_cap",
    )
    await refused(
        v,
        "shares.transferred",
        {"holder": a, "to": b, "units": 500, "price_fen": 1, "agreement": H},
        "shares.insufficient_units",
    )
    await v.append(
        "shares.transferred", {"holder": a, "to": b, "units": 60, "price_fen": 6000, "agreement": H}
    )


async def test_pledged_units_cannot_move(c: Collective) -> None:
    v = c.v
    (_, a), (_, b) = c.members[2], c.members[3]
    await v.append(
        "shares.pledged", {"pledge": "PL-1", "holder": a, "units": 100, "pledgee": BANK, "contract": H}
    )
    await refused(
        v,
        "shares.transferred",
        {"holder": a, "to": b, "units": 30, "price_fen": 1, "agreement": H},
        "shares.units_pledged",
    )
    await refused(
        v,
        "shares.bought_back",
        {"holder": a, "units": 30, "price_fen": 1, "agreement": H},
        "shares.units_pledged",
    )
    await v.append("shares.transferred", {"holder": a, "to": b, "units": 20, "price_fen": 1, "agreement": H})
    await v.append("shares.pledge_released", {"pledge": "PL-1"})
    await refused(v, "shares.pledge_released", {"pledge": "PL-1"}, "shares.no_pledge")


async def test_buyback_annual_cap(c: Collective) -> None:
    v = c.v
    # 5% of 3,600 issued units is 180 a year.
    await v.append(
        "shares.bought_back", {"holder": c.members[4][1], "units": 100, "price_fen": 500_000, "agreement": H}
    )
    await refused(
        v,
        "shares.bought_back",
        {"holder": c.members[5][1], "units": 81, "price_fen": 1, "agreement": H},
        "shares.buyback_over_annual_cap",
    )
    await v.append(
        "shares.bought_back", {"holder": c.members[5][1], "units": 80, "price_fen": 1, "agreement": H}
    )
    table = await c.v.fx.client.get(f"/v1/shares/collectives/{v.village}")
    assert table["scheme"]["total_units"] == 3600 - 180


async def test_inheritance_by_non_member_gives_income_rights(c: Collective, ledger: LedgerFixture) -> None:
    v = c.v
    deceased = c.members[6][1]
    heir = await v.person()
    await refused(
        v,
        "shares.inherited",
        {"deceased": deceased, "heir": heir.party, "units": 120, "evidence": H},
        "shares.holder_not_deceased",
    )
    await v.append("member.status_changed", {"party": deceased, "reason": "death"})
    await v.append(
        "shares.inherited", {"deceased": deceased, "heir": heir.party, "units": 120, "evidence": H}
    )
    mine = await ledger.client.get(f"/v1/shares/holders/{heir.party}")
    assert mine["items"][0]["income_only"] is True and mine["items"][0]["units"] == 120


async def test_dividend_payouts_sum_exactly(c: Collective, ledger: LedgerFixture) -> None:
    v = c.v
    await refused(
        v,
        "dividend.declared",
        {"dividend": "D-1", "distributable_fen": 100, "amount_fen": 101, "resolution": H},
        "dividend.over_distributable",
    )
    await v.append(
        "dividend.declared",
        {"dividend": "D-1", "distributable_fen": 10_000_000, "amount_fen": 9_999_999, "resolution": H},
    )
    d = await ledger.client.get("/v1/shares/dividends/D-1")
    assert sum(p["amount_fen"] for p in d["payouts"]) == 9_999_999
    # A member settled in town keeps receiving dividends.
    assert c.members[0][1] in {p["holder"] for p in d["payouts"]}


async def test_share_certificate_must_match(c: Collective) -> None:
    v = c.v
    household = c.households[1][0]
    await refused(
        v,
        "shares.certificate_issued",
        {"certificate": "SC-1", "household": household, "holdings": {c.members[4][1]: 999}},
        "shares.certificate_mismatch",
    )


async def test_cap_table_as_of_and_csv(c: Collective, ledger: LedgerFixture) -> None:
    v = c.v
    now = await ledger.client.get(f"/v1/shares/collectives/{v.village}")
    quantified = now["scheme"]["quantified_seq"]
    then = await ledger.client.get(f"/v1/shares/collectives/{v.village}", as_of=quantified)
    assert then["scheme"]["total_units"] == 3600
    assert all(h["units"] in (120, 720) for h in then["holders"])
    r = await ledger.client.http.get(f"/v1/shares/collectives/{v.village}/register.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert sum(int(row["units"]) for row in rows) == now["scheme"]["total_units"]
    before = await ledger.client.http.get(
        f"/v1/shares/collectives/{v.village}", params={"as_of": quantified - 1}
    )
    assert before.status_code == 404 and before.json()["code"] == "shares.not_quantified"
    bad = await ledger.client.http.get(f"/v1/shares/collectives/{v.village}", params={"as_of": 10**9})
    assert bad.status_code == 400


async def test_more_share_refusals(c: Collective) -> None:
    v = c.v
    (_, a), (_, b) = c.members[8], c.members[9]
    await refused(
        v,
        "shares.transferred",
        {"holder": a, "to": a, "units": 1, "price_fen": 1, "agreement": H},
        "shares.same_holder",
    )
    stranger = await v.person()
    await refused(
        v,
        "shares.bought_back",
        {"holder": stranger.party, "units": 1, "price_fen": 1, "agreement": H},
        "shares.no_holding",
    )
    await v.append(
        "shares.pledged", {"pledge": "PL-9", "holder": a, "units": 1, "pledgee": BANK, "contract": H}
    )
    await refused(
        v,
        "shares.pledged",
        {"pledge": "PL-9", "holder": b, "units": 1, "pledgee": BANK, "contract": H},
        "shares.pledge_exists",
    )
    await refused(
        v,
        "dividend.declared",
        {"dividend": "D-1", "distributable_fen": 1, "amount_fen": 1, "resolution": H},
        "dividend.exists",
    )


async def test_verification_and_scheme_refusals(ledger: LedgerFixture) -> None:
    v = await village(ledger, "shares-town", "shares-village-2")
    household, people = await v.members(2)
    base = {
        "as_of": "2025-12-31",
        "liabilities_fen": 50_000,
        "operating_assets": [{"category": "factory_rental", "value_fen": 50_000}],
    }
    await v.append("assets.verified", {"verification": "AV-a", **base})
    await refused(v, "assets.verified", {"verification": "AV-a", **base}, "assets.exists")
    await refused(
        v,
        "assets.verified",
        {"verification": "AV-old", **base, "as_of": "2024-12-31"},
        "assets.older_than_current",
    )
    allocations = [
        {"party": p.party, "household": household, "basic_units": 10, "labour_years": 0, "labour_units": 0}
        for p in people
    ]
    payload = {
        "scheme": "S",
        "verification": "AV-a",
        "scheme_date": ledger.clock().date().isoformat(),
        "basic_units_per_member": 10,
        "labour_units_per_year": 1,
        "collective_units": 0,
        "total_units": 20,
        "allocations": allocations,
    }
    await refused(v, "shares.quantified", payload, "shares.no_operating_assets")
    await v.append("assets.verified", {"verification": "AV-b", **base, "liabilities_fen": 0})
    await refused(v, "shares.quantified", payload, "shares.verification_superseded")
    payload["verification"] = "AV-b"
    await refused(
        v, "shares.quantified", {**payload, "scheme_date": "2099-01-01"}, "shares.future_scheme_date"
    )
    await refused(
        v, "shares.quantified", {**payload, "allocations": allocations[:1] * 2}, "shares.duplicate_holder"
    )
    await v.append("shares.quantified", payload)
    await v.append(
        "shares.certificate_issued",
        {"certificate": "SC-v2", "household": household, "holdings": {p.party: 10 for p in people}},
    )


async def test_share_certificates_are_listed_by_their_kind(ledger: LedgerFixture) -> None:
    """``GET /v1/certificates?kind=shares`` finds the share certificates (the filter once took
    only membership and transfer filing certificates, and refused this kind with a 400)."""
    found = await ledger.client.http.get("/v1/certificates", params={"kind": "shares"})
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert items and {c["kind"] for c in items} == {"shares"}
    assert "SC-v2" in {c["id"] for c in items}
