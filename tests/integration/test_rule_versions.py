"""Rule versions through the real API: a ledger written under version 1 keeps what version 1
accepted, adopts version 2, is refused the same entries from then on, and still verifies
intact offline and against the server with the same state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from contracts.rulebook import RULEBOOK
from tests.conftest import FakeClock
from tests.integration.audit_support import bundle, verify
from tests.integration.registry_checks import refused
from tests.integration.test_registry_certificates import filing, settled_household
from tests.registry_support import Village, hexdigest, village
from tests.support import LedgerFixture, open_ledger

H = hexdigest("doc")
BANK = "91371003000008801N"


@pytest.fixture(scope="module")
async def v1_ledger(
    database_factory: object, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LedgerFixture]:
    """A ledger that adopts no rule version at its start: version 1 is in force."""
    url = await database_factory()  # type: ignore[operator]
    async with open_ledger(url, Path(tmp_path_factory.mktemp("home")), FakeClock(), rules_version=None) as fx:
        yield fx


def contract(v: Village, contract_id: str, household: str, parcel: int) -> dict[str, Any]:
    return {
        "contract": contract_id,
        "household": household,
        "certificate_no": contract_id,
        "term_start": "2018-01-01",
        "term_end": "2047-12-31",
        "parcels": [
            {
                "code": v.parcel(parcel),
                "area_m2": 6670,
                "land_class": "arable",
                "boundaries": {"east": "road", "south": "ditch", "west": "hill", "north": "river"},
            }
        ],
    }


def homestead(v: Village, homestead_id: str, household: str, plot: int) -> dict[str, Any]:
    return {
        "homestead": homestead_id,
        "household": household,
        "plot_code": v.parcel(plot),
        "area_m2": 150,
        "zone": "plain",
        "certificate_no": homestead_id,
    }


async def settle(v: Village, fx: LedgerFixture, name: str) -> str:
    """A household all of whose members settled in town (transfer filing certificate)."""
    household, persons, rights = await settled_household(v)
    await v.append(
        "certificate.membership_issued",
        {"certificate": f"MC-{name}", "household": household, "persons": persons, "rights": rights},
    )
    await v.append(
        "certificate.transfer_filed",
        filing(v, f"TF-{name}", household, persons, rights, f"MC-{name}"),
        key=fx.keys[v.township],
    )
    return household


async def income_only_heir(v: Village, fx: LedgerFixture) -> tuple[str, str]:
    """Shares quantified over four members; one dies and a non-member inherits: income rights
    only. Returns (heir, a member holder)."""
    await fx.client.append(fx.keys["county"], "policy.set", {"numbers": {"holder_share_cap_bp": 5000}})
    household, people = await v.members(4)
    await v.append(
        "assets.verified",
        {
            "verification": "AV-1",
            "as_of": "2025-12-31",
            "operating_assets": [{"category": "factory_rental", "value_fen": 80_000_000}],
            "liabilities_fen": 0,
            "resource_assets": [],
            "non_operating_assets": [],
            "audit_statement": H,
        },
    )
    await v.append(
        "shares.quantified",
        {
            "scheme": "S-1",
            "verification": "AV-1",
            "scheme_date": fx.clock().date().isoformat(),
            "basic_units_per_member": 100,
            "labour_units_per_year": 10,
            "collective_units": 0,
            "total_units": 400,
            "allocations": [
                {
                    "party": p.party,
                    "household": household,
                    "basic_units": 100,
                    "labour_years": 0,
                    "labour_units": 0,
                }
                for p in people
            ],
        },
    )
    heir = await v.person()
    await v.append("member.status_changed", {"party": people[3].party, "reason": "death"})
    await v.append(
        "shares.inherited", {"deceased": people[3].party, "heir": heir.party, "units": 100, "evidence": H}
    )
    return heir.party, people[0].party


def pledge(pledge_id: str, holder: str) -> dict[str, Any]:
    return {"pledge": pledge_id, "holder": holder, "units": 10, "pledgee": BANK, "contract": H}


async def test_version_2_refuses_what_version_1_accepted_and_the_log_still_verifies(
    v1_ledger: LedgerFixture, tmp_path: Path
) -> None:
    fx = v1_ledger
    v = await village(fx, "rv-town", "rv-village")
    no_members, _ = await v.household(2)  # registered, nobody admitted: no member in force
    settled = await settle(v, fx, "S")
    other_settled = await settle(v, fx, "S2")
    seller, _ = await v.members(2)
    resident, _ = await v.members(2)
    heir, member = await income_only_heir(v, fx)

    # Version 1 accepts all three.
    await v.append("land.contract_issued", contract(v, "C-E1", no_members, 9001))
    await v.append("homestead.granted", homestead(v, "H-E1", no_members, 9002))
    await v.append("homestead.granted", homestead(v, "H-R1", seller, 9003))
    await v.append("homestead.transferred", {"homestead": "H-R1", "to_household": settled, "agreement": H})
    await v.append("shares.pledged", pledge("PL-heir-1", heir))

    # Only the root adopts, only a known and later version.
    await refused(v, "rules.adopted", {"version": 2}, "rules.not_root", key=fx.keys[v.township])
    await refused(v, "rules.adopted", {"version": 99}, "rules.unknown_version", key=fx.keys["county"])
    adoption = await fx.client.append(fx.keys["county"], "rules.adopted", {"version": 2})
    await refused(v, "rules.adopted", {"version": 2}, "rules.not_newer", key=fx.keys["county"])
    await refused(v, "rules.adopted", {"version": 1}, "rules.not_newer", key=fx.keys["county"])

    # Version 2 refuses the same kinds of entry, each with its code.
    another, _ = await v.household(1)
    await refused(
        v, "land.contract_issued", contract(v, "C-E2", another, 9004), "land.household_without_members"
    )
    await refused(
        v, "homestead.granted", homestead(v, "H-E2", another, 9005), "homestead.household_without_members"
    )
    await refused(
        v,
        "homestead.transferred",
        {"homestead": "H-R1", "to_household": other_settled, "agreement": H},
        "homestead.transferee_not_resident",
    )
    await refused(v, "shares.pledged", pledge("PL-heir-2", heir), "shares.income_only")
    # ... and still accepts what is right.
    await v.append("homestead.transferred", {"homestead": "H-R1", "to_household": resident, "agreement": H})
    await v.append("shares.pledged", pledge("PL-member", member))
    await v.append(
        "shares.transferred", {"holder": heir, "to": member, "units": 10, "price_fen": 100, "agreement": H}
    )

    expected = [
        {"version": 1, "from_seq": 0, "to_seq": adoption["seq"] - 1},
        {"version": 2, "from_seq": adoption["seq"], "to_seq": await fx.size() - 1},
    ]
    offline = await verify(fx, await bundle(fx, tmp_path / "bundle"))
    assert offline.status == "intact", offline.as_json()
    assert offline.rule_versions == expected
    online = await verify(fx)
    assert online.status == "intact" and online.server_digest == "match", online.as_json()
    assert online.rule_versions == expected
    assert online.state_digest == offline.state_digest


async def test_a_new_ledger_runs_the_current_version(ledger: LedgerFixture) -> None:
    """``init`` adopts the current rule version as record 1."""
    [genesis, adoption] = (await ledger.client.get("/v1/entries", after=-1, limit=2))["items"]
    assert genesis["entry"]["kind"] == "org.registered"
    assert adoption["entry"]["kind"] == "rules.adopted"
    assert adoption["entry"]["payload"] == {"version": RULEBOOK.current}
    assert adoption["entry"]["actor"] == "county"
