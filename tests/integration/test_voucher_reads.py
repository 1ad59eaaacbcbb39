"""The house vouchers' and land quotas' public reads through the real HTTP API: vouchers by
holder, household, developer and county; a voucher's statement as of any seq with every
movement provable against the signed checkpoint; a developer's redemptions and settlement;
price schedules; the pool; monitoring against the county's targets; land quotas with their
records and proofs; and bad parameters answered with problems, unknown ids with 404s.

One county story for the module (``tests.voucher_reads_support``)."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

from tests.integration.test_openapi import PROBLEM, OpenAPI
from tests.support import LedgerFixture
from tests.voucher_http import FACE_FEN
from tests.voucher_reads_support import (
    FIRST_FEN,
    SECOND_FEN,
    VoucherStory,
    bonus,
    evidence_items,
    record_matches,
    tell,
    verify_against_checkpoint,
)

VOUCHERS = "/v1/vouchers"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def story(ledger: LedgerFixture) -> Any:
    s = await tell(ledger)
    yield s
    await s.m.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def openapi(ledger: LedgerFixture) -> OpenAPI:
    r = await ledger.client.http.get("/schema/openapi.json")
    return OpenAPI(r.json())


async def checked(s: VoucherStory, openapi: OpenAPI, path: str, **params: Any) -> Any:
    r = await s.fx.client.http.get(path, params=params)
    assert r.status_code == 200, (path, params, r.text)
    openapi.check(r)
    return r.json()


def ids(page: dict[str, Any]) -> list[str]:
    return [x["id"] for x in page["items"]]


# Vouchers by holder, household, developer, county ---------------------------------------------


async def test_vouchers_by_holder_household_developer_and_county(
    story: VoucherStory, openapi: OpenAPI
) -> None:
    s, v = story, story.vouchers
    assert s.a is not None and s.b is not None
    everything = await checked(s, openapi, VOUCHERS, county="county")
    assert set(ids(everything)) == {v["one"], v["two"], v["three"], *s.children}
    assert everything["next"] is None
    # A's first member holds V-1 and, by the transfer, the first child of V-2.
    assert set(ids(await checked(s, openapi, VOUCHERS, holder=s.a.members[0]))) == {v["one"], s.children[0]}
    assert ids(await checked(s, openapi, VOUCHERS, holder=s.m.buyers[0])) == [s.children[1]]
    # A household's vouchers are those issued for its homestead (and split from them).
    assert set(ids(await checked(s, openapi, VOUCHERS, household=s.b.household))) == {v["two"], *s.children}
    assert ids(await checked(s, openapi, VOUCHERS, developer=s.m.developer)) == [v["one"]]
    assert ids(await checked(s, openapi, VOUCHERS, developer=s.m.rival)) == []
    assert ids(await checked(s, openapi, VOUCHERS, county="elsewhere")) == []
    both = await checked(s, openapi, VOUCHERS, household=s.a.household, holder=s.a.members[0])
    assert ids(both) == [v["one"]]
    first = await checked(s, openapi, VOUCHERS, limit=2)
    rest = await checked(s, openapi, VOUCHERS, after=first["next"])
    assert ids(first) + ids(rest) == ids(everything) and len(ids(first)) == 2


async def test_a_voucher_in_a_list_carries_its_terms(story: VoucherStory) -> None:
    one = next(x for x in (await story.get(VOUCHERS))["items"] if x["id"] == story.vouchers["one"])
    assert one["face_fen"] == FACE_FEN and one["used_fen"] == FIRST_FEN + SECOND_FEN
    assert one["bonus_fen"] == bonus(FIRST_FEN) + bonus(SECOND_FEN)
    assert one["balance_fen"] == FACE_FEN - FIRST_FEN - SECOND_FEN and one["status"] == "active"
    assert one["redemptions"] == 2 and one["generation"] == 0 and one["parent"] is None
    assert one["terms"] == {
        "bonus_tiers": [{"up_to_month": 12, "bonus_bp": 500}, {"up_to_month": 24, "bonus_bp": 200}],
        "transfers_allowed": 1,
        "par_share_bp": 8500,
        "floor_m2_per_person": 35,
        "settlement_stages": [
            {"stage": "contract", "share_bp": 3000},
            {"stage": "registration", "share_bp": 4000},
            {"stage": "handover", "share_bp": 3000},
        ],
    }


# A voucher's statement ------------------------------------------------------------------------


async def test_a_statement_proves_every_movement(story: VoucherStory, openapi: OpenAPI) -> None:
    s = story
    doc = await checked(s, openapi, f"{VOUCHERS}/{s.vouchers['one']}")
    assert doc["as_of"] == doc["checkpoint"]["size"] - 1
    kinds = [(m["kind"], m["amount_fen"], m["bonus_fen"], m["balance_fen"]) for m in doc["movements"]]
    assert kinds == [
        ("voucher.issued", FACE_FEN, 0, FACE_FEN),
        ("voucher.redeemed", FIRST_FEN, bonus(FIRST_FEN), FACE_FEN - FIRST_FEN),
        ("voucher.redeemed", SECOND_FEN, bonus(SECOND_FEN), FACE_FEN - FIRST_FEN - SECOND_FEN),
    ]
    assert [m["ref"] for m in doc["movements"][1:]] == [s.redemptions["first"], s.redemptions["second"]]
    assert verify_against_checkpoint(s.fx, doc, doc["movements"]) == 3
    for m in doc["movements"]:
        entry = await record_matches(s, m["seq"], m["leaf_hash"])
        assert entry["kind"] == m["kind"] and entry["payload"]["voucher"] == s.vouchers["one"]
    assert verify_against_checkpoint(s.fx, doc, evidence_items(doc)) >= 4
    assert doc["voucher"]["balance_fen"] == FACE_FEN - FIRST_FEN - SECOND_FEN
    assert doc["lineage"] == {"parent": None, "children": []}
    first, second = doc["redemptions"]
    assert (first["id"], second["id"]) == (s.redemptions["first"], s.redemptions["second"])
    value = FIRST_FEN + bonus(FIRST_FEN)
    assert (first["value_fen"], first["settled_fen"], first["due_fen"]) == (
        value,
        value * 3000 // 10_000,
        value - value * 3000 // 10_000,
    )
    assert [(x["stage"], x["settled"], x["seq"]) for x in first["stages"]] == [
        ("contract", True, s.seqs["settled"]),
        ("registration", False, None),
        ("handover", False, None),
    ]
    assert sum(x["amount_fen"] for x in first["stages"]) == value
    # Nothing of it used at par share: expiring now would deduct the bonus pro rata.
    balance, used_bonus = FACE_FEN - FIRST_FEN - SECOND_FEN, bonus(FIRST_FEN) + bonus(SECOND_FEN)
    assert doc["expiry_cash_fen"] == balance - used_bonus * balance // FACE_FEN


async def test_a_statement_as_of_any_seq(story: VoucherStory, openapi: OpenAPI) -> None:
    s, one = story, f"{VOUCHERS}/{story.vouchers['one']}"
    issued = await checked(s, openapi, one, at=s.seqs["issued"])
    assert issued["as_of"] == s.seqs["issued"] and issued["voucher"]["balance_fen"] == FACE_FEN
    assert [m["kind"] for m in issued["movements"]] == ["voucher.issued"] and issued["redemptions"] == []
    first = await checked(s, openapi, one, at=s.seqs["first"])
    assert first["voucher"]["balance_fen"] == FACE_FEN - FIRST_FEN
    assert (first["as_of_date"], first["month_of_voucher"], first["bonus_bp"]) == (str(s.today), 1, 500)
    # At the end of the story (two years on) it is past its validity: no bonus, nothing to redeem.
    end = await checked(s, openapi, one, at=s.seqs["end"])
    assert (end["month_of_voucher"], end["bonus_bp"]) == (None, None)
    assert end["as_of_date"] > end["voucher"]["valid_until"]
    assert first["voucher"]["bonus_fen"] == bonus(FIRST_FEN)
    assert [x["settled"] for x in first["redemptions"][0]["stages"]] == [False, False, False]
    verify_against_checkpoint(s.fx, first, first["movements"])
    settled = await checked(s, openapi, one, at=s.seqs["settled"])
    assert settled["redemptions"][0]["stages"][0]["seq"] == s.seqs["settled"]
    before = await s.fx.client.http.get(one, params={"at": s.seqs["issued"] - 1})
    assert before.status_code == 404 and before.json()["code"] == "voucher.not_found"
    openapi.check(before)
    beyond = await s.fx.client.http.get(one, params={"at": await s.size()})
    assert beyond.status_code == 400 and beyond.json()["code"] == "as_of.out_of_range"


async def test_a_split_voucher_shows_its_lineage(story: VoucherStory, openapi: OpenAPI) -> None:
    s = story
    parent = await checked(s, openapi, f"{VOUCHERS}/{s.vouchers['two']}")
    assert parent["voucher"]["status"] == "transferred" and parent["voucher"]["balance_fen"] == 0
    assert parent["voucher"]["transferred_fen"] == FACE_FEN
    children = parent["lineage"]["children"]
    assert {c["id"] for c in children} == set(s.children)
    by_id = {c["id"]: c for c in children}
    assert (
        by_id[s.children[0]]["face_fen"] == FACE_FEN - 7_000_000
        and by_id[s.children[1]]["face_fen"] == 7_000_000
    )
    assert all(c["generation"] == 1 and c["status"] == "active" for c in children)
    assert [m["kind"] for m in parent["movements"]] == ["voucher.issued", "voucher.transferred"]
    child = await checked(s, openapi, f"{VOUCHERS}/{s.children[1]}")
    assert child["lineage"]["parent"]["id"] == s.vouchers["two"]
    assert child["voucher"]["parent"] == s.vouchers["two"] and child["voucher"]["holders"] == s.m.buyers[:2]
    assert child["voucher"]["valid_until"] == parent["voucher"]["valid_until"]
    assert [(m["kind"], m["ref"]) for m in child["movements"]] == [("voucher.transferred", s.vouchers["two"])]
    verify_against_checkpoint(s.fx, child, [*child["movements"], *evidence_items(child)])
    before = await s.fx.client.http.get(f"{VOUCHERS}/{s.children[1]}", params={"at": s.seqs["second"]})
    assert before.status_code == 404


async def test_an_expired_voucher_is_cashed_out(story: VoucherStory, openapi: OpenAPI) -> None:
    s = story
    doc = await checked(s, openapi, f"{VOUCHERS}/{s.vouchers['three']}")
    assert doc["voucher"]["status"] == "cashed_out" and doc["voucher"]["cash_due_fen"] == FACE_FEN
    assert doc["expiry_cash_fen"] == FACE_FEN  # nothing used: no bonus to deduct
    kinds = [m["kind"] for m in doc["movements"]]
    assert kinds == ["voucher.issued", "voucher.expired", "voucher.cashed_out"]
    verify_against_checkpoint(s.fx, doc, doc["movements"])
    before = await checked(s, openapi, f"{VOUCHERS}/{s.vouchers['three']}", at=s.seqs["before_expiry"])
    assert before["voucher"]["status"] == "active" and before["voucher"]["cash_due_fen"] is None


async def test_unknown_and_malformed_vouchers(story: VoucherStory, openapi: OpenAPI) -> None:
    http = story.fx.client.http
    missing = await http.get(f"{VOUCHERS}/V-NONE")
    assert missing.status_code == 404 and missing.json()["code"] == "voucher.not_found"
    openapi.check(missing)
    for path, params in (
        (f"{VOUCHERS}/bad%20id", {}),
        (f"{VOUCHERS}/{'x' * 65}", {}),
        (f"{VOUCHERS}/{story.vouchers['one']}", {"at": "-1"}),
        (f"{VOUCHERS}/{story.vouchers['one']}", {"at": "seq"}),
        (VOUCHERS, {"holder": "not an id"}),
        (VOUCHERS, {"county": "%00"}),
        (VOUCHERS, {"limit": "0"}),
        (VOUCHERS, {"limit": "1001"}),
        (VOUCHERS, {"after": "-x"}),
    ):
        r = await http.get(path, params=params)
        assert r.status_code == 400, (path, params, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        openapi.check(r)


# A developer's redemptions --------------------------------------------------------------------


async def test_a_developers_redemptions_and_settlement(story: VoucherStory, openapi: OpenAPI) -> None:
    s, m = story, story.m
    path = f"/v1/developers/{m.developer}/redemptions"
    doc = await checked(s, openapi, path)
    assert doc["developer"]["id"] == m.developer and doc["developer"]["type"] == "developer"
    assert doc["pool"]["status"] == "in_pool" and doc["pool"]["county"] == "county"
    assert [x["id"] for x in doc["items"]] == sorted(s.redemptions.values())
    values = FIRST_FEN + bonus(FIRST_FEN) + SECOND_FEN + bonus(SECOND_FEN)
    settled = (FIRST_FEN + bonus(FIRST_FEN)) * 3000 // 10_000
    assert doc["totals"] == {
        "count": 2,
        "amount_fen": FIRST_FEN + SECOND_FEN,
        "bonus_fen": bonus(FIRST_FEN) + bonus(SECOND_FEN),
        "value_fen": values,
        "settled_fen": settled,
        "due_fen": values - settled,
    }
    for x in doc["items"]:
        assert (x["month_of_voucher"], x["bonus_bp"], x["project"]) == (1, 500, m.project)
    assert verify_against_checkpoint(s.fx, doc, evidence_items(doc)) == 3  # two redemptions, one stage
    earlier = await checked(s, openapi, path, at=s.seqs["first"])
    assert earlier["totals"]["count"] == 1 and earlier["totals"]["settled_fen"] == 0
    page = await checked(s, openapi, path, limit=1)
    assert len(page["items"]) == 1 and page["next"] == page["items"][0]["id"]
    assert page["totals"] == doc["totals"]
    rest = await checked(s, openapi, path, after=page["next"])
    assert [x["id"] for x in page["items"] + rest["items"]] == [x["id"] for x in doc["items"]]
    rival = await checked(s, openapi, f"/v1/developers/{m.rival}/redemptions")
    assert rival["pool"]["status"] == "left" and rival["pool"]["left_seq"] is not None
    assert rival["items"] == [] and rival["totals"]["count"] == 0
    for who in ("dev-none", "county", m.authority):
        r = await s.fx.client.http.get(f"/v1/developers/{who}/redemptions")
        assert r.status_code == 404 and r.json()["code"] == "developer.not_found", (who, r.text)
        openapi.check(r)


# Price schedules and the pool -----------------------------------------------------------------


async def test_price_schedules_mark_the_one_in_force(story: VoucherStory, openapi: OpenAPI) -> None:
    s, m = story, story.m
    doc = await checked(s, openapi, f"{VOUCHERS}/schedules", county="county")
    assert [(x["id"], x["in_force"]) for x in doc["items"]] == [
        (m.schedule, False),  # by the end of the story (two years on) the later one is in force
        (f"S-next-{m.name}", True),
    ]
    assert doc["items"][0]["prices"] == [
        {"zone": "plain", "fen_per_m2": 150_000},
        {"zone": "suburb", "fen_per_m2": 180_000},
    ]
    assert (await checked(s, openapi, f"{VOUCHERS}/schedules", county="elsewhere"))["items"] == []
    assert len((await checked(s, openapi, f"{VOUCHERS}/schedules"))["items"]) == 2


async def test_the_pool_lists_developers_and_projects(story: VoucherStory, openapi: OpenAPI) -> None:
    s, m = story, story.m
    doc = await checked(s, openapi, f"{VOUCHERS}/pool", county="county")
    by_id = {x["developer"]: x for x in doc["items"]}
    assert set(by_id) == {m.developer, m.rival}  # the stranger was never admitted
    assert {p["id"] for p in by_id[m.developer]["projects"]} == {m.project, m.far_project}
    assert by_id[m.rival]["status"] == "left"
    assert by_id[m.developer]["projects"][0]["presale_permit"].startswith("WD-")
    in_pool = await checked(s, openapi, f"{VOUCHERS}/pool", status="in_pool")
    assert [x["developer"] for x in in_pool["items"]] == [m.developer]
    bad = await s.fx.client.http.get(f"{VOUCHERS}/pool", params={"status": "expelled"})
    assert bad.status_code == 400
    openapi.check(bad)


# Monitoring -----------------------------------------------------------------------------------


async def test_county_and_township_figures(story: VoucherStory, openapi: OpenAPI) -> None:
    s, m = story, story.m
    doc = await checked(s, openapi, f"{VOUCHERS}/monitoring", org="county")
    f = doc["figures"]
    assert f["issued"] == {"count": 3, "fen": 3 * FACE_FEN}
    assert f["redeemed"] == {
        "count": 2,
        "fen": FIRST_FEN + SECOND_FEN,
        "bonus_fen": bonus(FIRST_FEN) + bonus(SECOND_FEN),
        "value_fen": FIRST_FEN + SECOND_FEN + bonus(FIRST_FEN) + bonus(SECOND_FEN),
    }
    # V-1's balance and both children, active
    assert f["outstanding"] == {"count": 3, "fen": FACE_FEN - FIRST_FEN - SECOND_FEN + FACE_FEN}
    assert f["transferred"] == {"count": 1, "fen": FACE_FEN}
    assert f["expired"] == {"count": 0, "fen": 0} and f["cashed_out"] == {"count": 1, "fen": FACE_FEN}
    assert s.cash is not None and f["cash_compensations"] == {"count": 1, "fen": s.cash.face_fen}
    q = f["quotas"]
    assert q["by_status"] == {"applied": 1, "traded": 1, "used": 1}
    assert q["confirmed"] == q["traded"] == {"count": 2, "m2": 1050, "mu": "1.58"}  # 1.575 亩
    assert q["used"] == {"count": 1, "m2": 900, "mu": "1.35"}
    assert q["traded_fen"] == 2_300_000
    assert q["proceeds_household_fen"] == 1_020_000  # 85% of the homestead's 1,200,000
    assert q["proceeds_collective_fen"] == 1_100_000 + 180_000
    assert doc["targets"] == []  # none set
    (township,) = doc["children"]
    assert township["org"]["id"] == m.v.township and township["figures"] == f
    town = await checked(s, openapi, f"{VOUCHERS}/monitoring", org=m.v.township)
    assert town["county"] == "county" and town["figures"] == f
    assert [c["org"]["id"] for c in town["children"]] == [m.v.village]
    before = await checked(s, openapi, f"{VOUCHERS}/monitoring", org="county", at=s.seqs["before_trade"])
    assert before["figures"]["quotas"]["by_status"] == {"applied": 1, "confirmed": 2}
    assert before["figures"]["quotas"]["traded"]["count"] == 0
    assert before["figures"]["cashed_out"]["count"] == 0


async def test_monitoring_beside_the_countys_targets(story: VoucherStory, openapi: OpenAPI) -> None:
    s = story
    targets = {"vouchers_issued_fen": 6 * FACE_FEN, "quota_used_m2": 900}
    await s.m.set_policy(monitoring_targets=targets)
    doc = await checked(s, openapi, f"{VOUCHERS}/monitoring", org="county")
    assert doc["targets"] == [
        {
            "name": "vouchers_issued_fen",
            "target": 6 * FACE_FEN,
            "actual": 3 * FACE_FEN,
            "share_bp": 5000,
            "reached": False,
        },
        {"name": "quota_used_m2", "target": 900, "actual": 900, "share_bp": 10_000, "reached": True},
    ]
    earlier = await checked(s, openapi, f"{VOUCHERS}/monitoring", org="county", at=s.seqs["end"])
    assert earlier["targets"] == []  # not set yet at that seq


async def test_monitoring_refuses_other_scopes(story: VoucherStory, openapi: OpenAPI) -> None:
    http = story.fx.client.http
    for org, status, code in (
        (story.m.v.village, 422, "monitoring.not_a_voucher_scope"),
        ("nobody", 404, "org.not_found"),
    ):
        r = await http.get(f"{VOUCHERS}/monitoring", params={"org": org})
        assert (r.status_code, r.json()["code"]) == (status, code), r.text
        openapi.check(r)
    missing = await http.get(f"{VOUCHERS}/monitoring")
    assert missing.status_code == 400
    openapi.check(missing)


# Land quotas ----------------------------------------------------------------------------------


async def test_quotas_by_collective_and_status(story: VoucherStory, openapi: OpenAPI) -> None:
    s, q = story, story.quotas
    every = await checked(s, openapi, "/v1/quotas", collective=s.m.v.village)
    assert set(ids(every)) == {q["traded"], q["applied"], q["homestead"]}
    assert ids(await checked(s, openapi, "/v1/quotas", status="used")) == [q["traded"]]
    assert ids(await checked(s, openapi, "/v1/quotas", status="traded")) == [q["homestead"]]
    assert ids(await checked(s, openapi, "/v1/quotas", status="applied")) == [q["applied"]]
    assert ids(await checked(s, openapi, "/v1/quotas", status="confirmed")) == []
    used = next(x for x in every["items"] if x["id"] == q["traded"])
    assert (used["quota_m2"], used["quota_mu"], used["holder_kind"]) == (900, "1.35", "entity")
    assert used["listing"] == f"L-{q['traded']}" and used["value_fen"] == 1_100_000
    assert (used["household_fen"], used["collective_fen"]) == (0, 1_100_000)
    assert s.cash is not None
    home = next(x for x in every["items"] if x["id"] == q["homestead"])
    assert (home["source"], home["site"], home["household"]) == (
        "homestead",
        s.cash.homestead,
        s.cash.household,
    )
    assert (home["household_fen"], home["collective_fen"], home["used_zone"]) == (1_020_000, 180_000, None)
    bad = await s.fx.client.http.get("/v1/quotas", params={"status": "sold"})
    assert bad.status_code == 400
    openapi.check(bad)


async def test_a_quota_with_its_records_and_proofs(story: VoucherStory, openapi: OpenAPI) -> None:
    s, quota = story, story.quotas["traded"]
    doc = await checked(s, openapi, f"/v1/quotas/{quota}")
    kinds = [x["record"]["entry"]["kind"] for x in doc["records"]]
    assert kinds == [
        "quota.applied",
        "quota.project_approved",
        "quota.accepted",
        "quota.confirmed",
        "exchange.certificate_issued",
        "quota.proceeds_split",
        "quota.used",
    ]
    items = [
        {
            "seq": x["record"]["seq"],
            "leaf_hash": x["record"]["leaf_hash"],
            "inclusion_proof": x["inclusion_proof"],
        }
        for x in doc["records"]
    ]
    assert verify_against_checkpoint(s.fx, doc, items) == 7
    for x in doc["records"]:
        await record_matches(s, x["record"]["seq"], x["record"]["leaf_hash"])
    assert doc["used_seq"] == items[-1]["seq"] and doc["status"] == "used"
    before = await checked(s, openapi, f"/v1/quotas/{quota}", at=s.seqs["before_trade"])
    assert before["status"] == "confirmed" and before["holder_kind"] == "collective"
    assert len(before["records"]) == 4
    missing = await s.fx.client.http.get("/v1/quotas/Q-NONE")
    assert missing.status_code == 404 and missing.json()["code"] == "quota.not_found"
    openapi.check(missing)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/quotas/%00",
        "/v1/quotas?collective=a%20b",
        "/v1/quotas/Q-1?at=-1",
        "/v1/vouchers/monitoring?org=a%20b",
    ],
)
async def test_malformed_parameters_are_problems(story: VoucherStory, path: str) -> None:
    r = await story.fx.client.http.get(path)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
