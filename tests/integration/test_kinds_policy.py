"""``GET /v1/kinds`` and ``GET /v1/policy`` through the real HTTP app: the catalogue under the
rule version in force on the ledger, each schema checked by ``jsonschema``, and a county's
policy numbers each with the seq of the ``policy.set`` that last set it."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from contracts.catalogue import catalogue
from contracts.policy import DEFAULT_POLICY
from contracts.rulebook import RULEBOOK
from tests.conftest import FakeClock
from tests.support import LedgerFixture, open_ledger

PROBLEM = "application/problem+json"


async def test_every_kind_in_force_with_a_schema_and_a_valid_example(ledger: LedgerFixture) -> None:
    r = await ledger.client.http.get("/v1/kinds")
    assert r.status_code == 200, r.text
    body = r.json()
    # init adopted the current version as record 1
    assert (body["rules_version"], body["rules_adopted_seq"]) == (RULEBOOK.current, 1)
    assert [k["kind"] for k in body["kinds"]] == [k.kind for k in catalogue()]
    for kind in body["kinds"]:
        assert set(kind) == {"kind", "version", "area", "signed_by", "description", "schema", "example"}
        assert kind["signed_by"]["types"] and kind["signed_by"]["role"], kind["kind"]
        jsonschema.Draft202012Validator.check_schema(kind["schema"])
        jsonschema.Draft202012Validator(kind["schema"]).validate(kind["example"])


async def test_one_kind(ledger: LedgerFixture) -> None:
    listed = {k["kind"]: k for k in (await ledger.client.get("/v1/kinds"))["kinds"]}
    one = await ledger.client.get("/v1/kinds/member.admitted")
    assert one == listed["member.admitted"]
    assert one["version"] == 2 and one["signed_by"]["types"] == ["village_collective"]


async def test_unknown_kind_is_a_404_problem(ledger: LedgerFixture) -> None:
    r = await ledger.client.http.get("/v1/kinds/member.crowned")
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "entry.unknown_kind"


async def test_the_catalogue_follows_the_version_in_force(database_factory: object, tmp_path: Path) -> None:
    """A ledger that never adopted a version runs version 1 and says so."""
    url = await database_factory()  # type: ignore[operator]
    async with open_ledger(url, tmp_path / "home", FakeClock(), rules_version=None) as fx:
        body = await fx.client.get("/v1/kinds")
        assert (body["rules_version"], body["rules_adopted_seq"]) == (1, None)
        assert {k["kind"]: k["version"] for k in body["kinds"]} == {k.kind: k.version for k in catalogue(1)}
        assert (await fx.client.get("/v1/kinds/member.admitted"))["version"] == 1


@pytest.fixture(scope="module")
async def policy_twice(ledger: LedgerFixture) -> tuple[LedgerFixture, int, int]:
    await ledger.register("county", "zetou-town", "township")
    await ledger.register("zetou-town", "xiaoguan-village", "village_collective")
    first = await ledger.client.append(
        ledger.keys["county"],
        "policy.set",
        {"numbers": {"membership_notice_days": 10, "bid_increment_fen": 200_00}},
    )
    second = await ledger.client.append(
        ledger.keys["county"], "policy.set", {"numbers": {"membership_notice_days": 14}}
    )
    return ledger, first["seq"], second["seq"]


async def test_policy_numbers_each_with_the_seq_that_set_it(
    policy_twice: tuple[LedgerFixture, int, int],
) -> None:
    ledger, first, second = policy_twice
    body = await ledger.client.get("/v1/policy", org="xiaoguan-village")
    assert (body["org"], body["county"]) == ("xiaoguan-village", "county")
    numbers = body["numbers"]
    assert numbers["membership_notice_days"] == {"value": 14, "default": 7, "set_seq": second}
    assert numbers["bid_increment_fen"] == {"value": 200_00, "default": 100_00, "set_seq": first}
    unset = {
        name: n for name, n in numbers.items() if name not in ("membership_notice_days", "bid_increment_fen")
    }
    assert unset and all(n["set_seq"] is None and n["value"] == n["default"] for n in unset.values())
    assert set(numbers) == set(DEFAULT_POLICY.__struct_fields__)
    assert numbers["exchange_fee_tiers"]["value"][0] == {"up_to_fen": 500_000_00, "rate_bp": 130}


async def test_policy_of_the_county_itself(policy_twice: tuple[LedgerFixture, int, int]) -> None:
    ledger, _, second = policy_twice
    body = await ledger.client.get("/v1/policy", org="county")
    assert body["county"] == "county" and body["numbers"]["membership_notice_days"]["set_seq"] == second


async def test_policy_of_an_org_in_no_county_is_a_404_problem(ledger: LedgerFixture) -> None:
    r = await ledger.client.http.get("/v1/policy", params={"org": "nowhere-village"})
    assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "org.not_found"


@pytest.mark.parametrize("query", [{}, {"org": "../etc"}, {"org": "x" * 65}])
async def test_policy_needs_a_well_formed_org(ledger: LedgerFixture, query: dict[str, str]) -> None:
    r = await ledger.client.http.get("/v1/policy", params=query)
    assert r.status_code == 400 and r.headers["content-type"].startswith(PROBLEM), r.text
