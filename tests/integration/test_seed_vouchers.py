"""The seeded house vouchers (房票) and land quotas (地票): a small county seeded through the real
API holds price schedules from its first day on, a developer pool with projects (one outside the
county, where nothing is redeemed), vouchers in every state (active and partly redeemed with its
settlement stages paid as they fall due, spent, split between transferees, expired with cash due,
cashed out) and homesteads compensated in cash instead, never both; quotas in every state
(applied, approved, accepted, confirmed and never listed, traded on the exchange with the
proceeds split, used once). The figures add up to the fen, the log verifies and replays to the
service's tables, and the public reads of vouchers and quotas name no registered person."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from api.audit.export import write_bundle
from api.cli.main import parser
from api.cli.verify import run_verify
from api.http.app import Settings, create_app
from api.service.database import asyncpg_url, make_engine
from contracts.vouchers.arithmetic import (
    bonus_bp,
    expiry_cash,
    month_of_voucher,
    stage_amounts,
)
from ledger.entry import parse_time
from seed.demo import urls
from seed.runner import SeedOptions
from tests.integration.test_seed import MakeDatabase, seeded
from tests.integration.test_seed_exchange import needles_of
from tests.integration.test_seed_no_personal_data import Crawl, offending
from tests.replay_check import assert_replay_matches_projections

# Three villages over nine years: the smallest county found whose settled households withdraw
# enough homesteads, early and late, for every voucher and quota state.
OPTIONS = SeedOptions(villages=3, seed=1, years=9, households=(20, 32))
ORIGIN = "test.rural-ledger/seeded"
TABLES = {
    "vouchers": "SELECT * FROM vouchers",
    "movements": "SELECT * FROM voucher_movements ORDER BY voucher_id, seq",
    "redemptions": "SELECT * FROM voucher_redemptions",
    "purchases": "SELECT * FROM voucher_purchases",
    "compensations": "SELECT * FROM homestead_compensations",
    "schedules": "SELECT * FROM voucher_price_schedules ORDER BY effective_from",
    "pool": "SELECT * FROM voucher_pool_developers",
    "projects": "SELECT * FROM voucher_pool_projects",
    "quotas": "SELECT * FROM land_quotas",
    "listings": "SELECT * FROM exchange_listings",
    "bidders": "SELECT * FROM exchange_bidders",
    "homesteads": "SELECT * FROM homesteads",
    "orgs": "SELECT * FROM orgs",
}
JSON_COLUMNS = {"holders", "bonus_tiers", "stages", "prices", "right"}


class Seeded:
    """The seeded ledger's voucher, quota and exchange tables and its records, read once."""

    def __init__(self, url: str, rows: dict[str, list[dict[str, Any]]], bodies: list[dict[str, Any]]) -> None:
        self.url, self.rows = url, rows
        self.vouchers = {v["id"]: v for v in rows["vouchers"]}
        self.quotas = {q["id"]: q for q in rows["quotas"]}
        self.listings = {x["id"]: x for x in rows["listings"]}
        self.records = bodies
        self.by_seq = {r["seq"]: r for r in bodies}

    def payloads(self, kind: str) -> list[dict[str, Any]]:
        return [r["entry"]["payload"] for r in self.records if r["entry"]["kind"] == kind]

    def entries(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["entry"]["kind"] == kind]

    def day_of(self, seq: int) -> date:
        return (parse_time(self.by_seq[seq]["recorded_at"]) + timedelta(hours=8)).date()

    def with_status(self, table: str, *statuses: str) -> list[dict[str, Any]]:
        return [x for x in self.rows[table] if x["status"] in statuses]


@pytest.fixture(scope="module")
async def county(database_factory: MakeDatabase, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ...]:
    url, home, operator_key, result = await seeded(
        database_factory, tmp_path_factory.mktemp("vouchers") / "c", OPTIONS
    )
    conn = await asyncpg.connect(url)
    try:
        rows = {name: [dict(r) for r in await conn.fetch(q)] for name, q in TABLES.items()}
        bodies = [
            msgspec.json.decode(r["body"]) for r in await conn.fetch("SELECT body FROM records ORDER BY seq")
        ]
    finally:
        await conn.close()
    for table in rows.values():  # asyncpg gives JSONB as text
        for row in table:
            for column in JSON_COLUMNS & set(row):
                if isinstance(row[column], str):
                    row[column] = msgspec.json.decode(row[column])
    return Seeded(url, rows, bodies), home, operator_key, result


async def test_the_county_runs_a_voucher_programme(county: tuple[Any, ...]) -> None:
    """A housing authority and developers under the county; a schedule in force from the first
    day and one each January after; the pool's projects, one outside the county; the voucher
    terms set by policy and changed once (later vouchers settle in two stages)."""
    s: Seeded = county[0]
    orgs = {o["id"]: o for o in s.rows["orgs"]}
    assert orgs["housing-authority"]["type"] == "housing_authority"
    assert orgs["housing-authority"]["parent_id"] == "county"
    developers = [o for o in orgs.values() if o["type"] == "developer"]
    assert len(developers) >= 3 and {o["parent_id"] for o in developers} == {"county"}
    effective = [x["effective_from"] for x in s.rows["schedules"]]
    assert effective[0] == date(2018, 3, 1) and {d.year for d in effective} == set(range(2018, 2027))
    assert all(d == date(d.year, 1, 1) for d in effective[1:])
    assert {x["status"] for x in s.rows["pool"]} == {"in_pool", "left"}
    codes = [p["area_code"] for p in s.rows["projects"]]
    outside = [c for c in codes if not c.startswith("371000")]
    assert outside and len(outside) < len(codes)
    inside = {p["id"] for p in s.rows["projects"] if p["area_code"].startswith("371000")}
    assert {r["project_id"] for r in s.rows["redemptions"]} <= inside
    stages = {tuple(tuple(x) for x in v["stages"]) for v in s.vouchers.values()}
    assert (("contract", 3000), ("registration", 4000), ("handover", 3000)) in stages


async def test_every_homestead_given_up_is_compensated_once_as_chosen(county: tuple[Any, ...]) -> None:
    """A voucher where the withdrawal chose one, cash where it chose cash, never both; the amount
    is the withdrawal's, the schedule in force's price for the zone times the area plus the
    appraisal. A homestead sold on the exchange brings its seller a voucher too."""
    s: Seeded = county[0]
    withdrawals = {p["homestead"]: p for p in s.payloads("homestead.withdrawn")}
    sold = {
        x["right"]["homestead"]: x["holder"]
        for x in s.listings.values()
        if x["right_type"] == "homestead" and x["status"] == "certified"
    }
    assert sold, "a homestead sold on the exchange"
    compensations = {c["homestead_id"]: c for c in s.rows["compensations"]}
    assert len(compensations) == len(s.rows["compensations"])  # one per homestead
    assert set(compensations) == set(withdrawals) | set(sold)
    for homestead, seller in sold.items():
        assert (compensations[homestead]["household_id"], compensations[homestead]["choice"]) == (
            seller,
            "voucher",
        )
    assert {c["choice"] for c in compensations.values()} == {"voucher", "cash"}
    homesteads = {h["id"]: h for h in s.rows["homesteads"]}
    schedules = {x["id"]: x for x in s.rows["schedules"]}
    issued = {p["homestead"]: p for p in s.payloads("voucher.issued")}
    cash = {p["homestead"]: p for p in s.payloads("voucher.cash_compensated")}
    assert not set(issued) & set(cash)
    for homestead, w in withdrawals.items():
        c = compensations[homestead]
        assert c["choice"] == w["compensation"] and c["amount_fen"] == w["compensation_fen"]
        p = issued.get(homestead) or cash[homestead]
        h = homesteads[homestead]
        price = schedules[p["schedule"]]["prices"][h["zone"]]
        assert h["area_m2"] * price + p["appraisal_fen"] == w["compensation_fen"]
    for v in s.vouchers.values():
        if v["generation"] == 0:
            in_force = max(
                (x for x in s.rows["schedules"] if x["effective_from"] <= v["issued_on"]),
                key=lambda x: x["effective_from"],
            )
            assert (
                v["schedule_id"] == in_force["id"]
                and v["face_fen"]
                == compensations[v["homestead_id"]]["amount_fen"]
                == v["area_m2"] * in_force["prices"][v["zone"]] + v["appraisal_fen"]
            )


async def test_vouchers_in_every_state(county: tuple[Any, ...]) -> None:
    s: Seeded = county[0]
    statuses = {v["status"] for v in s.vouchers.values()}
    assert statuses == {"active", "spent", "transferred", "expired", "cashed_out"}
    redemptions = defaultdict(list)
    for r in s.rows["redemptions"]:
        redemptions[r["voucher_id"]].append(r)
    partly = [
        v
        for v in s.with_status("vouchers", "active")
        if redemptions[v["id"]] and 0 < v["balance_fen"] < v["face_fen"]
    ]
    assert partly, "an active voucher partly redeemed"
    staged = [r for v in partly for r in redemptions[v["id"]] if 0 < r["settled_stages"] < len(r["stages"])]
    assert staged, "a redemption with some settlement stages paid and some due"
    parents = s.with_status("vouchers", "transferred")
    assert parents
    for parent in parents:
        children = [v for v in s.vouchers.values() if v["parent_id"] == parent["id"]]
        assert len(children) >= 2 and {c["generation"] for c in children} == {1}
        assert sum(c["face_fen"] for c in children) == parent["transferred_fen"]
        assert parent["balance_fen"] == 0 and parent["generation"] == 0
        for c in children:
            assert (c["issued_on"], c["valid_until"], c["household_id"]) == (
                parent["issued_on"],
                parent["valid_until"],
                parent["household_id"],
            )
            assert not set(c["holders"]) & set(parent["holders"])
    parts = [v for v in s.vouchers.values() if v["parent_id"]]
    assert {c["status"] for c in parts} >= {"spent", "active"}  # one part spent, another still held
    head = max(s.day_of(r["seq"]) for r in s.records)
    for v in s.with_status("vouchers", "expired", "cashed_out"):
        assert v["valid_until"] < head and v["balance_fen"] > 0
    for v in s.with_status("vouchers", "active"):
        assert v["valid_until"] >= head


async def test_the_voucher_figures_add_up(county: tuple[Any, ...]) -> None:
    """Issued = redeemed + transferred out + outstanding + expired remainder, for the vouchers
    issued; the transferred parts carry exactly what their parents transferred; every voucher's
    movements end at its balance."""
    s: Seeded = county[0]
    issued = [v for v in s.vouchers.values() if v["generation"] == 0]
    parts = [v for v in s.vouchers.values() if v["generation"] == 1]

    def total(vs: list[dict[str, Any]], column: str, *statuses: str) -> int:
        return sum(v[column] for v in vs if not statuses or v["status"] in statuses)

    assert total(issued, "face_fen") == (
        total(issued, "used_fen")
        + total(issued, "transferred_fen")
        + total(issued, "balance_fen", "active")
        + total(issued, "balance_fen", "expired", "cashed_out")
    )
    assert total(parts, "face_fen") == total(issued, "transferred_fen") > 0
    everything = list(s.vouchers.values())
    assert total(issued, "face_fen") == total(everything, "used_fen") + total(everything, "balance_fen")
    assert total(everything, "balance_fen", "spent", "transferred") == 0
    movements = defaultdict(list)
    for m in s.rows["movements"]:
        movements[m["voucher_id"]].append(m)
    redemptions = defaultdict(list)
    for r in s.rows["redemptions"]:
        redemptions[r["voucher_id"]].append(r)
    for v in everything:
        assert v["face_fen"] == v["used_fen"] + v["transferred_fen"] + v["balance_fen"], v["id"]
        assert movements[v["id"]][-1]["balance_fen"] == v["balance_fen"], v["id"]
        assert sum(r["amount_fen"] for r in redemptions[v["id"]]) == v["used_fen"]
        assert sum(r["bonus_fen"] for r in redemptions[v["id"]]) == v["bonus_fen"]
        assert len(redemptions[v["id"]]) == v["redemptions"]


async def test_redemptions_bonus_and_settlements(county: tuple[Any, ...]) -> None:
    """Each redemption's bonus is its month's tier on the amount, its value never beyond the
    purchase price; every stage paid is the stage's share of the value, in order."""
    s: Seeded = county[0]
    settled = defaultdict(list)
    for r in s.entries("voucher.settled"):
        settled[r["entry"]["payload"]["redemption"]].append(r["entry"]["payload"])
    left = {r["entry"]["payload"]["developer"]: r["seq"] for r in s.entries("voucher.developer_left")}
    assert left, "a developer left the pool"
    months = set()
    for r in s.rows["redemptions"]:
        v = s.vouchers[r["voucher_id"]]
        assert r["redeemed_seq"] < left.get(r["developer_id"], r["redeemed_seq"] + 1)  # in the pool then
        n = month_of_voucher(v["issued_on"], r["redeemed_on"])
        months.add(n <= 12)
        assert (
            r["bonus_bp"] == bonus_bp(v["bonus_tiers"], n)
            and r["bonus_fen"] == r["amount_fen"] * r["bonus_bp"] // 10_000
        )
        assert r["value_fen"] == r["amount_fen"] + r["bonus_fen"] <= r["price_fen"]
        assert r["redeemed_on"] <= v["valid_until"] and r["holder"] in v["holders"]
        due = stage_amounts(r["value_fen"], r["stages"])
        paid = settled[r["id"]]
        assert [(p["stage"], p["amount_fen"]) for p in paid] == due[: len(paid)] and len(paid) == r[
            "settled_stages"
        ]
        assert r["settled_fen"] == sum(p["amount_fen"] for p in paid)
        if r["settled_stages"] == len(due):
            assert r["settled_fen"] == r["value_fen"]
    assert months == {True, False}  # bonuses at both tiers


async def test_expiry_follows_the_par_share_rule(county: tuple[Any, ...]) -> None:
    """Each expiry, the day after the last valid day or later, pays the rule's cash; a cash-out
    pays it once; one at least is expired with its cash still due."""
    s: Seeded = county[0]
    expired = {r["entry"]["payload"]["voucher"]: r for r in s.entries("voucher.expired")}
    cashed = {p["voucher"]: p for p in s.payloads("voucher.cashed_out")}
    at_par = below = 0
    for vid, record in expired.items():
        v = s.vouchers[vid]
        assert s.day_of(record["seq"]) > v["valid_until"]
        cash = expiry_cash(v["face_fen"], v["used_fen"], v["bonus_fen"], v["balance_fen"], v["par_share_bp"])
        assert record["entry"]["payload"]["cash_fen"] == cash == v["cash_due_fen"]
        if v["used_fen"] * 10_000 >= v["par_share_bp"] * v["face_fen"]:
            at_par += 1
        elif v["used_fen"]:
            below += 1
            assert cash < v["balance_fen"]
        if vid in cashed:
            assert cashed[vid]["amount_fen"] == cash and v["status"] == "cashed_out"
        else:
            assert v["status"] == "expired"
    assert at_par and below
    assert set(cashed) < set(expired)


async def test_quotas_in_every_state(county: tuple[Any, ...]) -> None:
    """Reclaimed homesteads (and a collective site) become quotas in every state; a traded one
    went through a certified exchange listing to its winner, its proceeds split by the policy to
    the fen; a used one names its zone; a confirmed one was never listed."""
    s: Seeded = county[0]
    statuses = {q["status"] for q in s.quotas.values()}
    assert statuses == {"applied", "approved", "accepted", "confirmed", "traded", "used"}
    assert {q["source"] for q in s.quotas.values()} == {"homestead", "collective_site"}
    withdrawn = {h["id"] for h in s.rows["homesteads"] if h["status"] == "withdrawn"}
    assert {q["site"] for q in s.quotas.values() if q["source"] == "homestead"} <= withdrawn
    listed = {x["right"]["quota"]: x for x in s.listings.values() if x["right_type"] == "land_quota"}
    for q in s.with_status("quotas", "confirmed"):
        assert q["quota_m2"] == q["measured_m2"] <= q["site_area_m2"]
    assert any(q["id"] not in listed for q in s.with_status("quotas", "confirmed"))
    bidders = {(b["listing_id"], b["number"]): b for b in s.rows["bidders"]}
    for q in s.with_status("quotas", "traded", "used"):
        x = listed[q["id"]]
        assert x["status"] == "certified" and x["id"] == q["listing_id"] and x["quantity"] == q["quota_m2"]
        assert q["holder"] == bidders[(x["id"], x["winner"])]["bidder"] and q["value_fen"] == x["value_fen"]
        share = 8500 if q["source"] == "homestead" else 0
        assert q["household_fen"] == q["value_fen"] * share // 10_000
        assert q["household_fen"] + q["collective_fen"] == q["value_fen"]
    used = s.with_status("quotas", "used")
    assert used and all(q["used_zone"] for q in used)
    assert len(s.payloads("quota.used")) == len(used)  # each used once


async def test_the_ledger_replays_and_verifies(county: tuple[Any, ...], tmp_path: Path) -> None:
    s, _, operator_key, _ = county
    filled = await assert_replay_matches_projections(s.url, ORIGIN)
    assert {
        "vouchers",
        "voucher_movements",
        "voucher_redemptions",
        "voucher_purchases",
        "homestead_compensations",
        "voucher_price_schedules",
        "voucher_pool_developers",
        "voucher_pool_projects",
        "land_quotas",
    } <= filled
    engine = make_engine(asyncpg_url(s.url), pool_size=2)
    try:
        await write_bundle(engine, tmp_path / "bundle")
    finally:
        await engine.dispose()
    args = parser().parse_args(
        ["verify", str(tmp_path / "bundle"), "--operator-key", operator_key, "--workers", "0", "--quiet"]
    )
    outcome = await run_verify(args)
    assert outcome.status == "intact", outcome.as_json()


async def test_the_reads_answer_and_name_no_person(county: tuple[Any, ...]) -> None:
    """Every voucher's statement, the households' and developers' lists, the county's figures,
    the schedules, the pool and every quota answer, and name no registered person."""
    s, home = county[0], county[1]
    needles = await needles_of(s.url)
    app = create_app(Settings(home=home, database_url=asyncpg_url(s.url), clock=lambda: datetime.now(UTC)))
    async with AsyncTestClient(app=app, timeout=120) as http:
        crawl = Crawl(http)
        for v in s.vouchers.values():
            await crawl.get(f"/v1/vouchers/{v['id']}")
        for household in {v["household_id"] for v in s.vouchers.values()}:
            await crawl.get("/v1/vouchers", household=household)
        for developer in {r["developer_id"] for r in s.rows["redemptions"]}:
            await crawl.get(f"/v1/developers/{developer}/redemptions")
        await crawl.get("/v1/vouchers/monitoring", org="county")
        await crawl.get("/v1/vouchers/schedules", county="county")
        await crawl.get("/v1/vouchers/pool", county="county")
        await crawl.get("/v1/quotas")
        for q in s.quotas.values():
            await crawl.get(f"/v1/quotas/{q['id']}")
    found = offending(crawl.texts, needles)
    assert not found, found


def test_demo_links_to_vouchers_and_quotas() -> None:
    show = {
        "county": "county",
        "voucher": "FP-1",
        "voucher_household": "h1",
        "developer": "developer-1",
        "quota": "DP-1",
    }
    paths = {
        "/v1/vouchers",
        "/v1/vouchers/{voucher:str}",
        "/v1/developers/{developer:str}/redemptions",
        "/v1/vouchers/monitoring",
        "/v1/vouchers/schedules",
        "/v1/vouchers/pool",
        "/v1/quotas",
        "/v1/quotas/{quota:str}",
    }
    shown = set(dict(urls("http://x", {"showcase": show}, paths)).values())
    for url in (
        "http://x/v1/vouchers?household=h1",
        "http://x/v1/vouchers/FP-1",
        "http://x/v1/developers/developer-1/redemptions",
        "http://x/v1/vouchers/monitoring?org=county",
        "http://x/v1/vouchers/schedules?county=county",
        "http://x/v1/vouchers/pool?county=county",
        "http://x/v1/quotas",
        "http://x/v1/quotas/DP-1",
    ):
        assert url in shown, url
    assert not [
        u
        for u in dict(urls("http://x", {"showcase": show}, set())).values()
        if "voucher" in u or "quota" in u
    ]
