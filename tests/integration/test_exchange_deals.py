"""The exchange's evidence reads through the real HTTP API: a transaction certificate that
verifies offline, comparable deals with their summary, and monitoring of deposits and refunds
(``tests.exchange_deals_support`` holds the county's deals and the numbers used here)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.canonical import canonical_bytes
from ledger.checkpoint import open_checkpoint
from ledger.merkle import leaf_hash
from ledger.proofs import verify_inclusion
from tests.exchange_deals_support import COOPERATIVE, Deals, build_deals
from tests.integration.test_openapi import OpenAPI
from tests.registry_support import hexdigest
from tests.support import LedgerFixture

PROBLEM = "application/problem+json"
STEP_GROUPS = {
    "exchange.bidder_registered": "registrations",
    "exchange.deposit_received": "deposits",
    "exchange.bid": "bids",
    "exchange.deposit_refunded": "refunds",
}


@pytest.fixture(scope="module")
async def deals(ledger: LedgerFixture) -> Deals:
    return await build_deals(ledger)


@pytest.fixture(scope="module")
async def openapi(ledger: LedgerFixture) -> OpenAPI:
    return OpenAPI((await ledger.client.http.get("/schema/openapi.json")).json())


async def get(fx: LedgerFixture, openapi: OpenAPI, url: str) -> Any:
    """A 200 answer, checked against the schema the OpenAPI document gives it."""
    r = await fx.client.http.get(url)
    assert r.status_code == 200, r.text
    openapi.check(r)
    return r.json()


async def refused(fx: LedgerFixture, openapi: OpenAPI, url: str, status: int, code: str) -> None:
    r = await fx.client.http.get(url)
    assert (r.status_code, r.headers["content-type"]) == (status, PROBLEM), (url, r.text)
    assert r.json()["code"] == code, r.json()
    openapi.check(r)


async def records_of(fx: LedgerFixture, listing: str) -> list[dict[str, Any]]:
    """Every record that acted on ``listing``, read from the log itself."""
    found, after = [], -1
    while after is not None:
        page = await fx.client.get("/v1/entries", after=after, limit=1000)
        found += [r for r in page["items"] if r["entry"]["payload"].get("listing") == listing]
        after = page["next"]
    return found


def verify_offline(cert: dict[str, Any], fx: LedgerFixture) -> None:
    """What a bank does with the JSON and the operator's key alone."""
    checkpoint = open_checkpoint(cert["checkpoint"]["note"], fx.verifier, origin=fx.origin)
    record = cert["record"]
    leaf = leaf_hash(canonical_bytes({k: record[k] for k in ("seq", "recorded_at", "entry", "sig")}))
    assert leaf.hex() == record["leaf_hash"]
    proof = [bytes.fromhex(h) for h in cert["inclusion_proof"]]
    verify_inclusion(leaf, record["seq"], checkpoint.size, proof, checkpoint.root_hash)
    assert checkpoint.size == cert["checkpoint"]["size"]


async def test_the_certificate_names_the_deal_and_verifies_offline(
    ledger: LedgerFixture, openapi: OpenAPI, deals: Deals
) -> None:
    cert = await get(ledger, openapi, "/v1/exchange/certificates/L-1")
    verify_offline(cert, ledger)
    record = cert["record"]
    assert record["entry"]["kind"] == "exchange.certificate_issued"
    assert record["entry"]["payload"] == {"listing": "L-1", "certificate_no": "JY-2026-0001"}
    assert record["entry"]["actor"] == "x-deals-east"
    east = deals.east
    assert cert["certificate_no"] == "JY-2026-0001" and cert["listing"] == "L-1"
    assert (cert["exchange"]["id"], cert["township"]["id"], cert["village"]["id"]) == (
        "x-deals-east",
        "t-deals-east",
        "v-deals-east",
    )
    assert cert["right"]["type"] == "land_management" and cert["right"]["quantity"] == 4000
    assert cert["right"]["terms"]["parcels"] == east.parcels[:2]
    assert (cert["right"]["term_start"], cert["right"]["term_end"]) == ("2026-07-01", "2036-07-01")
    assert cert["transferor"] == {"kind": "household", "id": east.seller}
    assert cert["transferee"] == {
        "kind": "entity",
        "id": COOPERATIVE["credit_code"],
        "name": COOPERATIVE["name"],
        "household": None,
        "bidder": 2,
        "priority": False,
    }
    assert (cert["price_fen"], cert["price_unit"], cert["value_fen"]) == (100_000, "per_mu_year", 6_000_000)
    assert (cert["buyer_fee_fen"], cert["seller_fee_fen"]) == (78_000, 0)  # a member household sells
    assert (cert["awarded_on"], cert["certified_on"]) == ("2026-05-04", "2026-05-04")
    assert cert["certified_at"] == record["recorded_at"]


async def test_the_certificate_cites_every_step_of_the_listing(
    ledger: LedgerFixture, openapi: OpenAPI, deals: Deals
) -> None:
    cert = await get(ledger, openapi, "/v1/exchange/certificates/L-1")
    steps = cert["steps"]
    log = await records_of(ledger, "L-1")
    by_kind: dict[str, list[int]] = {}
    for r in log:
        by_kind.setdefault(r["entry"]["kind"], []).append(r["seq"])
    assert [steps["listing"]] == by_kind["exchange.listed"]
    assert [steps["award"]] == by_kind["exchange.awarded"]
    assert [steps["contract"]] == by_kind["exchange.contract_signed"]
    assert [steps["payment"]] == by_kind["exchange.payment_confirmed"]
    assert [steps["certificate"]] == by_kind["exchange.certificate_issued"] == [cert["record"]["seq"]]
    for kind, group in STEP_GROUPS.items():
        assert steps[group] == by_kind[kind], group
    assert len(steps["registrations"]) == 3 and len(steps["bids"]) == 3 and steps["others"] == []
    cited = [steps[k] for k in ("listing", "award", "contract", "payment", "certificate")]
    cited += [s for k in ("registrations", "deposits", "bids", "refunds", "others") for s in steps[k]]
    assert sorted(cited) == [r["seq"] for r in log]


async def test_a_shares_certificate_names_a_party_and_its_household(
    ledger: LedgerFixture, openapi: OpenAPI, deals: Deals
) -> None:
    cert = await get(ledger, openapi, "/v1/exchange/certificates/S-1")
    verify_offline(cert, ledger)
    buyer = deals.east.buyers[0]
    member = await ledger.client.get(f"/v1/members/{buyer}")
    assert cert["transferor"] == {"kind": "party", "id": deals.shares_seller}
    assert cert["transferee"]["kind"] == "party" and cert["transferee"]["id"] == buyer
    assert cert["transferee"]["household"] == member["household_id"] and cert["transferee"]["name"] is None
    assert cert["right"]["terms"]["units"] == 60 and cert["certified_on"] == "2026-05-05"
    assert (cert["price_unit"], cert["value_fen"], cert["buyer_fee_fen"]) == ("total", 660_000, 20_000)


async def test_no_certificate_is_a_404_problem(ledger: LedgerFixture, openapi: OpenAPI, deals: Deals) -> None:
    for listing in ("L-404", "L-4", "L-5"):  # unknown, still announced, withdrawn
        await refused(
            ledger, openapi, f"/v1/exchange/certificates/{listing}", 404, "exchange.certificate_not_found"
        )
    for hostile in ("L-1'--", "%00", "x" * 65, "..%2F..%2Fetc"):
        r = await ledger.client.http.get(f"/v1/exchange/certificates/{hostile}")
        assert r.status_code in (400, 404) and r.headers["content-type"] == PROBLEM, (hostile, r.text)
        assert r.json()["code"] in ("request.invalid_parameters", "not_found"), r.text


def items(found: dict[str, Any]) -> list[str]:
    return [d["listing"] for d in found["items"]]


async def test_comparable_deals_with_unit_prices(
    ledger: LedgerFixture, openapi: OpenAPI, deals: Deals
) -> None:
    found = await get(ledger, openapi, "/v1/exchange/deals")
    assert items(found) == ["L-1", "L-2", "S-1", "L-3"] and found["next"] is None
    seqs = [d["certificate_seq"] for d in found["items"]]
    assert seqs == sorted(seqs)
    by_id = {d["listing"]: d for d in found["items"]}
    l1, l2, s1, l3 = (by_id[k] for k in ("L-1", "L-2", "S-1", "L-3"))
    assert (l1["unit_price_fen"], l1["price_basis"], l1["area_m2"], l1["term_months"]) == (
        100_000,
        "per_mu_year",
        4000,
        120,
    )
    assert (l2["unit_price_fen"], l2["price_fen"], l2["price_unit"], l2["area_m2"]) == (
        70_000,
        1_050_000,
        "total",
        2000,
    )
    assert (s1["unit_price_fen"], s1["price_basis"], s1["units"], s1["area_m2"]) == (
        11_000,
        "per_unit",
        60,
        None,
    )
    assert (l3["unit_price_fen"], l3["term_months"], l3["method"]) == (47_619, 84, "auction")  # 47,619.05
    assert l1["mode"] == "lease" and s1["mode"] is None
    assert l3["township"]["id"] == "t-deals-west" and l3["village"]["name"] == "v-deals-west"
    assert (l3["certified_at"][:10], l3["certified_on"]) == ("2026-05-05", "2026-05-06")  # China's date
    land, shares = found["summaries"]
    assert land == {
        "right_type": "land_management",
        "price_basis": "per_mu_year",
        "count": 3,
        "median_fen": 70_000,
        "mean_fen": 72_540,  # 217,619 / 3 = 72,539.67
        "min_fen": 47_619,
        "max_fen": 100_000,
        "total_value_fen": 8_050_000,
    }
    assert (shares["right_type"], shares["count"], shares["median_fen"], shares["mean_fen"]) == (
        "shares",
        1,
        11_000,
        11_000,
    )


async def test_deals_by_right_type_township_and_period(
    ledger: LedgerFixture, openapi: OpenAPI, deals: Deals
) -> None:
    async def deals_at(query: str) -> dict[str, Any]:
        return await get(ledger, openapi, f"/v1/exchange/deals?{query}")  # type: ignore[no-any-return]

    assert items(await deals_at("right_type=shares")) == ["S-1"]
    assert items(await deals_at("right_type=homestead")) == []
    assert (await deals_at("right_type=homestead"))["summaries"] == []
    assert items(await deals_at("township=t-deals-west")) == ["L-3"]
    assert items(await deals_at("township=t-nowhere")) == []
    # The period is of China's dates: L-3 was certified on 5 May in UTC, 6 May in China.
    assert items(await deals_at("to=2026-05-05")) == ["L-1", "L-2", "S-1"]
    assert items(await deals_at("from=2026-05-06")) == ["L-3"]
    assert items(await deals_at("from=2026-05-05&to=2026-05-05")) == ["L-2", "S-1"]
    assert items(await deals_at("to=2026-05-03")) == []
    # Two prices, 70,000 and 47,619: the median and the mean are 58,809.5, rounded half up.
    (two,) = (await deals_at("right_type=land_management&from=2026-05-05"))["summaries"]
    assert (two["count"], two["median_fen"], two["mean_fen"]) == (2, 58_810, 58_810)


async def test_deals_page_by_certificate_seq_and_summarise_every_match(
    ledger: LedgerFixture, openapi: OpenAPI, deals: Deals
) -> None:
    first = await get(ledger, openapi, "/v1/exchange/deals?limit=2")
    assert items(first) == ["L-1", "L-2"] and first["next"] == first["items"][-1]["certificate_seq"]
    second = await get(ledger, openapi, f"/v1/exchange/deals?limit=2&after={first['next']}")
    assert items(second) == ["S-1", "L-3"] and second["next"] is None
    assert first["summaries"] == second["summaries"] and first["summaries"][0]["count"] == 3


async def test_deals_refuse_bad_filters(ledger: LedgerFixture, openapi: OpenAPI, deals: Deals) -> None:
    await refused(
        ledger, openapi, "/v1/exchange/deals?from=2026-05-06&to=2026-05-05", 400, "deals.bad_period"
    )
    for query in (
        "from=2026-13-01",
        "to=yesterday",
        "right_type=land",
        "township=%27%3B%20DROP%20TABLE%20exchange_listings",
        "limit=0",
        "limit=1001",
        "after=-2",
        "after=99999999999999999999999",
    ):
        await refused(ledger, openapi, f"/v1/exchange/deals?{query}", 400, "request.invalid_parameters")


def figures_of(groups: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {g["org"]["id"]: g["figures"] for g in groups}


def deposits(f: dict[str, Any]) -> dict[str, tuple[int, int]]:
    d = f["deposits"]
    return {
        k: (d[k]["count"], d[k]["fen"])
        for k in ("received", "refunded", "credited", "forfeited", "outstanding")
    }


async def test_monitoring_figures_and_overdue_refunds_by_the_clock(
    ledger: LedgerFixture, openapi: OpenAPI, deals: Deals
) -> None:
    county = await get(ledger, openapi, "/v1/exchange/monitoring?org=county")
    f = county["figures"]
    assert county["today"] == "2026-05-06"
    assert f["listings_by_status"] == {"announced": 1, "certified": 4, "withdrawn": 1}
    assert f["deals_certified"] == {"count": 4, "fen": 8_710_000}
    assert deposits(f) == {
        "received": (9, 3_660_000),
        "refunded": (1, 960_000),
        "credited": (4, 1_460_000),
        "forfeited": (1, 90_000),
        "outstanding": (3, 1_150_000),
    }
    assert f["deposits"]["balanced"] and f["deposits"]["difference_fen"] == 0
    # L-5 was withdrawn on 21 April: its deposit was due back by 28 April.
    assert f["refunds_overdue"] == {"count": 1, "fen": 100_000}
    assert county["overdue"] == [
        {
            "listing": "L-5",
            "exchange": "xt-deals-west",
            "township": "t-deals-west",
            "bidder": 1,
            "amount_fen": 100_000,
            "refunds_due": "2026-04-28",
            "days_overdue": 8,
        }
    ]
    exchanges = figures_of(county["exchanges"])
    assert list(exchanges) == ["x-deals-east", "x-deals-west", "xt-deals-west"]
    assert exchanges["x-deals-east"]["listings_by_status"] == {"certified": 3}
    assert exchanges["x-deals-west"]["listings_by_status"] == {"announced": 1}
    assert deposits(exchanges["x-deals-west"])["forfeited"] == (1, 90_000)
    assert exchanges["xt-deals-west"]["deals_certified"] == {"count": 1, "fen": 1_000_000}
    townships = figures_of(county["townships"])
    assert list(townships) == ["t-deals-east", "t-deals-west"]
    assert townships["t-deals-east"]["deals_certified"] == {"count": 3, "fen": 7_710_000}
    assert deposits(townships["t-deals-west"])["received"] == (4, 460_000)
    assert all(g["figures"]["deposits"]["balanced"] for g in county["exchanges"] + county["townships"])

    town = await get(ledger, openapi, "/v1/exchange/monitoring?org=t-deals-west")
    assert town["figures"] == townships["t-deals-west"]
    assert list(figures_of(town["exchanges"])) == ["x-deals-west", "xt-deals-west"]
    centre = await get(ledger, openapi, "/v1/exchange/monitoring?org=xt-deals-west")
    assert centre["figures"] == exchanges["xt-deals-west"]
    assert list(figures_of(centre["townships"])) == ["t-deals-west"]

    # L-1 was awarded on Monday 4 May: losing deposits are due back by Monday 11 May, so 竞买人
    # 3's is overdue from midnight in China, 16:00 UTC.
    clock: Any = ledger.clock
    clock.now = datetime(2026, 5, 11, 15, 59, 59, tzinfo=UTC)
    late = await get(ledger, openapi, "/v1/exchange/monitoring?org=x-deals-east")
    assert late["today"] == "2026-05-11" and late["figures"]["refunds_overdue"] == {"count": 0, "fen": 0}
    clock.now = datetime(2026, 5, 11, 16, 0, tzinfo=UTC)
    county = await get(ledger, openapi, "/v1/exchange/monitoring?org=county")
    assert county["figures"]["refunds_overdue"] == {"count": 2, "fen": 1_060_000}
    assert [(o["listing"], o["bidder"], o["days_overdue"]) for o in county["overdue"]] == [
        ("L-5", 1, 14),
        ("L-1", 3, 1),
    ]
    await deals.east.act(
        "exchange.deposit_refunded",
        {"listing": "L-1", "bidder": 3, "bank_reference": hexdigest("refund L-1 3")},
    )
    county = await get(ledger, openapi, "/v1/exchange/monitoring?org=county")
    assert county["figures"]["refunds_overdue"] == {"count": 1, "fen": 100_000}
    assert deposits(county["figures"])["refunded"] == (2, 1_920_000)
    assert deposits(county["figures"])["outstanding"] == (2, 190_000)
    assert county["figures"]["deposits"]["balanced"]


async def test_monitoring_refuses_what_it_does_not_cover(
    ledger: LedgerFixture, openapi: OpenAPI, deals: Deals
) -> None:
    await refused(
        ledger, openapi, "/v1/exchange/monitoring?org=v-deals-east", 422, "monitoring.not_an_exchange_scope"
    )
    await refused(ledger, openapi, "/v1/exchange/monitoring?org=nobody", 404, "org.not_found")
    for query in ("", "org=", "org=%27%20OR%201%3D1", "org=" + "x" * 65):
        await refused(ledger, openapi, f"/v1/exchange/monitoring?{query}", 400, "request.invalid_parameters")


async def test_the_routes_are_documented(openapi: OpenAPI) -> None:
    for op_id in ("getExchangeCertificate", "listComparableDeals", "getExchangeMonitoring"):
        op = openapi.operation(op_id)
        assert op["tags"] == ["exchange"] and op["summary"]
        assert "200" in op["responses"] and {"400", "429", "500", "503"} <= set(op["responses"])
    assert (
        "exchange.certificate_not_found"
        in openapi.operation("getExchangeCertificate")["responses"]["404"]["description"]
    )
    params = [p["name"] for p in openapi.operation("listComparableDeals")["parameters"]]
    assert params == ["right_type", "township", "from", "to", "after", "limit"]
