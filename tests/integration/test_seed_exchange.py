"""The seeded exchange: a small county seeded through the real API holds listings in every
state (open with and without bids, each priority model exercised, awarded, certified with the
right moved, failed and relisted lower, withdrawn, defaulted with the defaulter barred, held,
a hold lifted), every deposit accounted for to the fen, a log that verifies and replays, and
no registered person's name, ID number or phone on it. The calendar the seed declares is
checked against the weekdays it names."""

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
from contracts.exchange.bidding import quote_commitment
from contracts.identifiers import validate_credit_code
from ledger.entry import parse_time
from seed.demo import urls
from seed.exchange_calendar import NOTICES, notice
from seed.runner import SeedOptions
from tests.integration.test_seed import MakeDatabase, seeded
from tests.integration.test_seed_no_personal_data import Crawl, offending, personal_data, record_bodies
from tests.replay_check import assert_replay_matches_projections

# Three villages (three townships) over four years: the smallest county found to hold a
# household settled in town, every member, with its homestead, so every listing is told.
OPTIONS = SeedOptions(villages=3, seed=7, years=4, households=(15, 25))
ORIGIN = "test.rural-ledger/seeded"


class Exchange:
    """The seeded ledger's exchange tables and records, read once."""

    def __init__(self, url: str, rows: dict[str, list[dict[str, Any]]], bodies: list[dict[str, Any]]) -> None:
        self.url = url
        self.listings = {r["id"]: r for r in rows["listings"]}
        self.bidders: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
        for b in rows["bidders"]:
            self.bidders[b["listing_id"]][b["number"]] = b
        self.steps: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for s in rows["steps"]:
            self.steps[s["listing_id"]].append(s)
        self.rows = rows
        self.entries = {r["seq"]: r["entry"] for r in bodies}
        self.recorded_at = {r["seq"]: r["recorded_at"] for r in bodies}

    def kinds(self, listing: str) -> list[str]:
        return [s["kind"] for s in self.steps[listing]]

    def with_status(self, *statuses: str) -> list[dict[str, Any]]:
        return [x for x in self.listings.values() if x["status"] in statuses]

    def payloads(self, listing: str, kind: str) -> list[dict[str, Any]]:
        return [self.entries[s["seq"]]["payload"] for s in self.steps[listing] if s["kind"] == kind]


@pytest.fixture(scope="module")
async def county(database_factory: MakeDatabase, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ...]:
    url, home, operator_key, result = await seeded(
        database_factory, tmp_path_factory.mktemp("exchange") / "c", OPTIONS
    )
    conn = await asyncpg.connect(url)
    try:
        queries = {
            "listings": "SELECT * FROM exchange_listings",
            "bidders": "SELECT * FROM exchange_bidders",
            "steps": "SELECT * FROM exchange_steps ORDER BY listing_id, seq",
            "transfers": "SELECT * FROM management_transfers WHERE id LIKE 'exchange:%'",
            "holdings": "SELECT * FROM share_holdings",
            "homesteads": "SELECT * FROM homesteads",
            "members": "SELECT * FROM household_members",
            "calendars": "SELECT * FROM working_calendars",
            "orgs": "SELECT * FROM orgs",
        }
        rows = {name: [dict(r) for r in await conn.fetch(q)] for name, q in queries.items()}
        for x in rows["listings"]:  # asyncpg gives JSONB as text
            for column in ("right", "qualifications", "barred"):
                x[column] = msgspec.json.decode(x[column])
        bodies = [
            msgspec.json.decode(r["body"]) for r in await conn.fetch("SELECT body FROM records ORDER BY seq")
        ]
    finally:
        await conn.close()
    return Exchange(url, rows, bodies), home, operator_key, result


def test_the_calendar_names_real_weekdays() -> None:
    """Each year's worked days are Saturdays or Sundays, never also holidays; 2026 is the
    State Council's (元旦, 春节 with 14 and 28 February worked, 劳动节 with 9 May, 国庆 with 20
    September and 10 October)."""
    assert set(NOTICES) == set(range(2018, 2027))
    for year in NOTICES:
        found = notice(year)
        assert found is not None
        holidays, worked = found
        assert all(d.weekday() >= 5 for d in worked), year
        assert not set(holidays) & set(worked), year
        assert len(set(holidays)) == len(holidays) and all(d.year == year for d in (*holidays, *worked))
    holidays, worked = notice(2026) or ([], [])
    for d in ("2026-01-01", "2026-02-15", "2026-02-23", "2026-04-06", "2026-05-05", "2026-06-19"):
        assert date.fromisoformat(d) in holidays, d
    for d in ("2026-09-25", "2026-10-01", "2026-10-07"):
        assert date.fromisoformat(d) in holidays, d
    assert [d.isoformat() for d in worked] == [
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    ]


async def test_the_county_declares_its_calendars_and_exchanges(county: tuple[Any, ...]) -> None:
    ex: Exchange = county[0]
    years = {c["year"] for c in ex.rows["calendars"]}
    assert {2018, 2019, 2020, 2021} <= years
    centres = [o for o in ex.rows["orgs"] if o["type"] == "exchange_center"]
    parents = {o["parent_id"] for o in centres}
    assert "county" in parents and any(p.startswith("town-") for p in parents), centres
    used = {x["exchange_id"] for x in ex.listings.values()}
    assert len(used) >= 2 and used <= {o["id"] for o in centres}
    townships = {o["id"] for o in ex.rows["orgs"] if o["type"] == "township"}
    assert {x["township_id"] for x in ex.listings.values()} == townships  # listings in every township


async def test_open_listings_with_and_without_bids(county: tuple[Any, ...]) -> None:
    """At the ledger's head some listings are open for bids, with bids and without; one whose
    hold was lifted is back in its announcement."""
    ex: Exchange = county[0]
    head = max(parse_time(t) for t in ex.recorded_at.values())
    open_ = [x for x in ex.with_status("announced") if x["held_at"] is None]
    bidding = [x for x in open_ if parse_time(x["opens_at"]) <= head < parse_time(x["closes_at"])]
    assert any(x["bids"] > 0 for x in bidding) and any(x["bids"] == 0 for x in bidding), bidding
    assert any(parse_time(x["opens_at"]) > head for x in open_)


async def test_late_bids_moved_the_close(county: tuple[Any, ...]) -> None:
    """A bid in the last five minutes moved the close five minutes after it."""
    ex: Exchange = county[0]
    moved = 0
    for listing, steps in ex.steps.items():
        kinds = ex.kinds(listing)
        if "exchange.extended" in kinds or "exchange.held" in kinds:
            continue
        [listed] = ex.payloads(listing, "exchange.listed")
        planned, closes = (
            parse_time(listed["bidding_closes_at"]),
            parse_time(ex.listings[listing]["closes_at"]),
        )
        bids = [
            parse_time(s["at"]) for s in steps if s["kind"] in ("exchange.bid", "exchange.priority_matched")
        ]
        late = [t for t in bids if planned - timedelta(minutes=5) <= t < planned]
        assert closes == (max(late) + timedelta(minutes=5) if late else planned), listing
        moved += bool(late)
    assert moved >= 2


async def test_priority_exercised_under_each_model(county: tuple[Any, ...]) -> None:
    ex: Exchange = county[0]
    seen = set()
    for x in ex.with_status("certified"):
        if x["winner"] is None:
            continue
        winner = ex.bidders[x["id"]][x["winner"]]
        if not winner["priority"]:
            continue
        model, steps = x["priority_model"], ex.steps[x["id"]]
        matches = [s for s in steps if s["kind"] == "exchange.priority_matched"]
        if model == "in_auction_match" and any(s["at"] < x["closes_at"] for s in matches):
            seen.add(model)
        if model == "post_close_match" and any(s["at"] > x["closes_at"] for s in matches):
            seen.add(model)
        equal = [b for b in ex.bidders[x["id"]].values() if b["priority"] and b["best_fen"] == x["price_fen"]]
        if model == "tie" and not matches and len(equal) >= 2:
            seen.add(model)  # two priority holders' equal bids, ordered by the lottery
    assert seen == {"in_auction_match", "post_close_match", "tie"}


async def test_deals_certified_move_the_right(county: tuple[Any, ...]) -> None:
    ex: Exchange = county[0]
    certified = ex.with_status("certified")
    assert {x["right_type"] for x in certified} >= {"land_management", "shares", "homestead"}
    transfers = {t["id"]: t for t in ex.rows["transfers"]}
    household_of = {m["party_id"]: m["household_id"] for m in ex.rows["members"]}
    to_entities = 0
    for x in certified:
        winner = ex.bidders[x["id"]][x["winner"]]
        [payment] = ex.payloads(x["id"], "exchange.payment_confirmed")
        assert payment["amount_fen"] == x["value_fen"] - winner["deposit_fen"] + x["buyer_fee_fen"]
        assert winner["deposit"] == "credited"
        if x["right_type"] == "land_management":
            t = transfers[f"exchange:{x['id']}"]
            assert (t["transferee"], t["term_start"], t["term_end"]) == (
                winner["bidder"],
                x["term_start"],
                x["term_end"],
            )
            if winner["bidder_kind"] == "entity":
                to_entities += 1
                assert (
                    validate_credit_code(winner["bidder"]) and t["transferee_name"] == winner["bidder_name"]
                )
        elif x["right_type"] == "homestead":
            [h] = [h for h in ex.rows["homesteads"] if h["id"] == x["right"]["homestead"]]
            assert h["household_id"] == household_of[winner["bidder"]] != x["holder"]
        elif x["right_type"] == "shares":
            holdings = {
                (h["holder"]): h["units"]
                for h in ex.rows["holdings"]
                if h["collective_id"] == x["collective_id"]
            }
            assert holdings[winner["bidder"]] >= x["right"]["units"]
    assert to_entities and any(t["transferee"] in household_of for t in ex.rows["transfers"])


async def test_unsold_withdrawn_defaulted_held(county: tuple[Any, ...]) -> None:
    ex: Exchange = county[0]
    relisted = [x for x in ex.listings.values() if x["relisting_of"]]
    lowered = [x for x in relisted if x["reserve_fen"] < ex.listings[x["relisting_of"]]["reserve_fen"]]
    assert lowered and all(ex.listings[x["relisting_of"]]["status"] == "failed" for x in relisted)
    assert any("exchange.extended" in ex.kinds(x["relisting_of"]) for x in lowered)
    [withdrawn] = ex.with_status("withdrawn")
    assert withdrawn["first_bid_seq"] is None
    assert {b["deposit"] for b in ex.bidders[withdrawn["id"]].values()} == {"refunded"}
    forfeited = [b for bs in ex.bidders.values() for b in bs.values() if b["deposit"] == "forfeited"]
    assert {b["forfeit_reason"] for b in forfeited} == {"refused_contract"}
    [barred] = [x for x in relisted if x["barred"]]
    defaulters = {
        b["bidder"] for b in ex.bidders[barred["relisting_of"]].values() if b["deposit"] == "forfeited"
    }
    assert defaulters and defaulters <= set(barred["barred"])
    assert not defaulters & {b["bidder"] for b in ex.bidders[barred["id"]].values()}
    runner_up = [b for b in forfeited if ex.listings[b["listing_id"]]["status"] == "certified"]
    assert runner_up and ex.kinds(runner_up[0]["listing_id"]).count("exchange.awarded") == 2
    assert ex.with_status("awarded")
    held = [x for x in ex.listings.values() if "exchange.held" in ex.kinds(x["id"])]
    assert {x["held_at"] is None for x in held} == {True, False}  # one still held, one lifted


async def test_sealed_quotes_open_to_their_commitments(county: tuple[Any, ...]) -> None:
    ex: Exchange = county[0]
    [sealed] = [x for x in ex.listings.values() if x["method"] == "sealed"]
    opened = ex.payloads(sealed["id"], "exchange.quote_opened")
    assert len(opened) == len(ex.payloads(sealed["id"], "exchange.quote_sealed")) >= 2
    for q in opened:
        bidder = ex.bidders[sealed["id"]][q["bidder"]]
        assert bidder["sealed"] == quote_commitment(sealed["id"], q["bidder"], q["amount_fen"], q["salt"])


async def test_every_deposit_is_accounted_for(county: tuple[Any, ...]) -> None:
    """Per listing: deposits received = refunds + credits + forfeits (+ held while open), to the fen."""
    ex: Exchange = county[0]
    for listing, steps in ex.steps.items():
        x = ex.listings[listing]
        received = sum(s["amount_fen"] for s in steps if s["kind"] == "exchange.deposit_received")
        refunded = sum(s["amount_fen"] for s in steps if s["kind"] == "exchange.deposit_refunded")
        forfeited = sum(s["amount_fen"] for s in steps if s["kind"] == "exchange.defaulted")
        by_state: dict[str, int] = defaultdict(int)
        for b in ex.bidders[listing].values():
            by_state[b["deposit"]] += b["deposit_fen"]
        assert (refunded, forfeited) == (by_state["refunded"], by_state["forfeited"]), listing
        assert received == refunded + forfeited + by_state["credited"] + by_state["held"], listing
        if x["status"] in ("certified", "failed", "withdrawn"):
            assert by_state["held"] == 0, listing


async def test_the_exchange_ledger_replays_and_verifies(county: tuple[Any, ...], tmp_path: Path) -> None:
    ex, _, operator_key, _ = county
    filled = await assert_replay_matches_projections(ex.url, ORIGIN)
    assert {"exchange_listings", "exchange_bidders", "exchange_steps", "working_calendars"} <= filled
    engine = make_engine(asyncpg_url(ex.url), pool_size=2)
    try:
        await write_bundle(engine, tmp_path / "bundle")
    finally:
        await engine.dispose()
    args = parser().parse_args(
        ["verify", str(tmp_path / "bundle"), "--operator-key", operator_key, "--workers", "0", "--quiet"]
    )
    outcome = await run_verify(args)
    assert outcome.status == "intact", outcome.as_json()


async def needles_of(url: str) -> set[str]:
    """Every registered person's name, resident ID number and phone number."""
    rows = await personal_data(url)
    needles = {r["name"] for r in rows if len(r["name"]) >= 2} | {r["id_number"] for r in rows}
    return needles | {r["phone"] for r in rows}


async def test_no_personal_data_on_the_exchange_log(county: tuple[Any, ...]) -> None:
    ex: Exchange = county[0]
    needles = await needles_of(ex.url)
    bodies = await record_bodies(ex.url)
    assert sum('"exchange.' in b for b in bodies) > 100 and len(needles) > 100
    found = offending({f"record {i}": b for i, b in enumerate(bodies)}, needles)
    assert not found, found


async def test_no_personal_data_in_the_exchange_reads(county: tuple[Any, ...]) -> None:
    """The board, every listing's history, results, the feed, deals, certificates and
    monitoring of the seeded exchange name no registered person."""
    ex, home = county[0], county[1]
    needles = await needles_of(ex.url)
    app = create_app(Settings(home=home, database_url=asyncpg_url(ex.url), clock=lambda: datetime.now(UTC)))
    async with AsyncTestClient(app=app, timeout=120) as http:
        crawl = Crawl(http)
        board = await crawl.pages("/v1/exchange/listings")
        for x in board:
            await crawl.get(f"/v1/exchange/listings/{x['id']}")
        await crawl.pages("/v1/exchange/results")
        await crawl.get("/v1/exchange/feed.atom")
        for right_type in ("land_management", "shares", "homestead"):
            await crawl.get("/v1/exchange/deals", right_type=right_type)
        for x in ex.with_status("certified"):
            await crawl.get(f"/v1/exchange/certificates/{x['id']}")
        await crawl.get("/v1/exchange/monitoring", org="county")
    assert {x["id"] for x in board} == set(ex.listings)
    found = offending(crawl.texts, needles)
    assert not found, found


def test_demo_links_to_the_pages_for_people() -> None:
    state = {"showcase": {"transfer_certificate": "TF371"}}
    shown = dict(urls("http://x", state, {"/board", "/checkpoint", "/verify", "/console/login"}))
    assert shown["announcement board (web)"] == "http://x/board"
    assert shown["verify the certificate (web)"] == "http://x/verify?number=TF371"
    assert "http://x/console/login" in shown.values() and "http://x/checkpoint" in shown.values()
    assert "announcement board (web)" not in dict(urls("http://x", state, set()))


def test_demo_links_to_the_exchange() -> None:
    state = {"showcase": {"exchange_listing": "JY-1", "exchange_certificate": "JY-2"}}
    paths = {
        "/v1/exchange/listings",
        "/v1/exchange/listings/{listing:str}",
        "/v1/exchange/feed.atom",
        "/v1/exchange/certificates/{listing:str}",
        "/v1/exchange/deals",
    }
    shown = dict(urls("http://x", state, paths))
    assert "http://x/v1/exchange/listings" in shown.values()
    assert "http://x/v1/exchange/listings/JY-1" in shown.values()
    assert "http://x/v1/exchange/certificates/JY-2" in shown.values()
    assert "http://x/v1/exchange/feed.atom" in shown.values()
    assert any(u.startswith("http://x/v1/exchange/deals") for u in shown.values())
    assert not [u for u in dict(urls("http://x", state, set())).values() if "/exchange/" in u]
