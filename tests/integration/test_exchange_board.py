"""The exchange's public reads through the real HTTP API: the board, a listing's history with
proofs an auditor checks against the signed checkpoint, the results (成交公示), the Atom feed,
and a bidder's registration for its exchange centre only; hostile parameters are 400 problems.

One county story for the module, told through ``POST /v1/entries`` with the ledger's clock
moved: L-A is auctioned (a tie-priority equal bid, a late bid that moves the close) and
awarded; L-B is held, then withdrawn; L-C fails with bidders but no bid and is relisted as L-D,
which is announced; L-E is awarded, its winner defaults and, under tie priority, the listing is
announced again with the runner-up as its high bidder. What the board said at moments along
the way is kept for the tests.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from api.client import Person
from ledger.checkpoint import open_checkpoint
from ledger.entry import format_time, parse_time
from ledger.proofs import verify_inclusion
from tests.exchange_http import ExchangeHttp, deal_value_fen, entity
from tests.integration.test_openapi import PROBLEM, OpenAPI
from tests.registry_reads_support import record_leaf
from tests.support import LedgerFixture

ATOM = "{http://www.w3.org/2005/Atom}"
LISTINGS = "/v1/exchange/listings"
COOPERATIVE = entity(11, "文登丰收果蔬专业合作社")
FAMILY_FARM = entity(12, "文登绿野家庭农场")


@dataclass
class Story:
    fx: LedgerFixture
    m: ExchangeHttp
    people: list[Person] = field(default_factory=list)
    seqs: dict[str, int] = field(default_factory=dict)
    seen: dict[str, Any] = field(default_factory=dict)  # answers at moments along the way
    late_at: str = ""

    async def get(self, path: str, **params: Any) -> Any:
        r = await self.fx.client.http.get(path, params=params)
        assert r.status_code == 200, (path, r.text)
        return r.json()


async def tell(fx: LedgerFixture) -> Story:
    m = await ExchangeHttp.build(fx, "board", buyers=3, parcels=5)
    s = Story(fx, m)
    p = m.parcels
    s.seqs["A"] = (await m.list("L-A", right={**m.listing_payload("L-A")["right"], "parcels": p[:2]}))["seq"]
    await m.list("L-B", right={**m.listing_payload("L-B")["right"], "parcels": p[2:3]})
    await m.list("L-C", right={**m.listing_payload("L-C")["right"], "parcels": p[3:4]})
    await m.list("L-E", right={**m.listing_payload("L-E")["right"], "parcels": p[4:5]})
    s.seen["announced"] = (await s.get(LISTINGS, status="open"), m.now())
    assert await m.register("L-A", m.buyers[0]) == 1  # a member of the collective: priority
    assert await m.register("L-A", m.buyers[1]) == 2
    assert await m.register("L-A", bidder=COOPERATIVE) == 3
    await m.register("L-C", m.buyers[2])
    await m.register("L-C", bidder=FAMILY_FARM)
    await m.register("L-E", m.buyers[0])
    await m.register("L-E", bidder=COOPERATIVE)
    await m.hold("L-B")
    s.seen["held"] = await s.get(f"{LISTINGS}/L-B")
    s.seqs["B"] = (await m.withdraw("L-B"))["seq"]

    m.open_bidding("L-A", minutes=10)
    await m.bid("L-A", 3, 80_000)
    m.open_bidding("L-A", minutes=20)
    await m.bid("L-A", 1, 80_000)  # tie priority: the member's equal bid outranks
    s.seen["tie"] = await s.get(f"{LISTINGS}/L-A")
    m.open_bidding("L-A", minutes=30)
    await m.bid("L-A", 2, 90_000)
    m.open_bidding("L-A", minutes=40)
    s.seqs["E_runner_up"] = (await m.bid("L-E", 2, 80_000))["seq"]
    m.open_bidding("L-A", minutes=50)
    await m.bid("L-E", 1, 90_000)
    m.open_bidding("L-A", minutes=118)  # two minutes before the close
    s.late_at = format_time(m.now())
    s.seqs["late"] = (await m.bid("L-A", 3, 100_000))["seq"]
    s.seen["late"] = await s.get(LISTINGS, exchange=m.exchange)

    m.move_to(parse_time(s.late_at) + timedelta(minutes=6))
    s.seqs["C"] = (await m.fail("L-C"))["seq"]
    s.seqs["A_awarded"] = (await m.award("L-A", 3, 100_000))["seq"]
    s.seqs["E_awarded"] = (await m.award("L-E", 1, 90_000))["seq"]
    defaulted = {"listing": "L-E", "bidder": 1, "reason": "refused_confirmation", "document": "ab" * 32}
    s.seqs["E_defaulted"] = (await m.act("exchange.defaulted", defaulted))["seq"]
    s.seqs["D"] = (
        await m.list(
            "L-D",
            right={**m.listing_payload("L-D")["right"], "parcels": p[3:4]},
            reserve_fen=70_000,
            relisting_of="L-C",
        )
    )["seq"]
    return s


@pytest.fixture(scope="module")
async def story(ledger: LedgerFixture) -> Story:
    return await tell(ledger)


@pytest.fixture(scope="module")
async def openapi(ledger: LedgerFixture) -> OpenAPI:
    r = await ledger.client.http.get("/schema/openapi.json")
    return OpenAPI(r.json())


def items_by_id(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {x["id"]: x for x in page["items"]}


# The board -------------------------------------------------------------------------------------


async def test_the_board_lists_every_listing_with_its_terms(story: Story, openapi: OpenAPI) -> None:
    r = await story.fx.client.http.get(LISTINGS)
    openapi.check(r)
    board = items_by_id(r.json())
    assert list(board) == ["L-A", "L-B", "L-C", "L-D", "L-E"]
    a = board["L-A"]
    m = story.m
    assert (a["exchange"], a["township"], a["village"]) == (m.exchange, m.v.township, m.v.village)
    assert a["right"] == {
        "type": "land_management",
        "contract": m.contract,
        "parcels": m.parcels[:2],
        "area_m2": 4000,
        "area_mu": "6.00",
        "mode": "lease",
        "term_start": m.payloads["L-A"]["right"]["term_start"],
        "term_end": "2036-12-31",
    }
    assert a["reserve_fen"] == 80_000 and a["price_unit"] == "per_mu_year"
    assert (a["increment_fen"], a["deposit_fen"]) == (10_000, m.payloads["L-A"]["deposit_fen"])
    assert (a["method"], a["priority_model"], a["listed_seq"]) == ("auction", "tie", story.seqs["A"])
    assert a["bidding_opens_at"] == m.payloads["L-A"]["bidding_opens_at"]
    assert a["status"] == "awarded" and a["phase"] is None and a["closes_in_seconds"] is None
    assert a["bidders"] == 3 and a["held"] is False
    assert a["high_bid"] == {
        "number": 3,
        "bidder": "竞买人 3",
        "amount_fen": 100_000,
        "seq": story.seqs["late"],
        "at": story.late_at,
    }
    result = a["result"]
    assert (result["number"], result["winner"], result["price_fen"]) == (3, "竞买人 3", 100_000)
    # 100,000 fen per 亩 per year × 6 亩 × the lease's months / 12
    assert result["value_fen"] == deal_value_fen({**m.payloads["L-A"], "reserve_fen": 100_000}, 4000)
    assert result["awarded_on"] == (m.now() + timedelta(hours=8)).date().isoformat()
    d = board["L-D"]
    assert (d["status"], d["phase"], d["round"], d["relisting_of"]) == ("announced", "announcement", 2, "L-C")
    assert board["L-C"]["relisted_as"] == "L-D" and board["L-C"]["status"] == "failed"
    assert board["L-C"]["high_bid"] is None and board["L-C"]["result"] is None
    assert board["L-B"]["status"] == "withdrawn"


async def test_the_board_filters_and_pages(story: Story) -> None:
    async def ids(**params: Any) -> list[str]:
        return [x["id"] for x in (await story.get(LISTINGS, **params))["items"]]

    assert await ids(status="open") == ["L-D", "L-E"]
    assert await ids(status="announced") == ["L-D", "L-E"]
    assert await ids(status="awarded") == ["L-A"]
    assert await ids(status="failed") == ["L-C"]
    assert await ids(status="withdrawn") == ["L-B"]
    assert await ids(status="certified") == []
    assert await ids(exchange=story.m.exchange) == ["L-A", "L-B", "L-C", "L-D", "L-E"]
    assert await ids(exchange="x-elsewhere") == []
    assert await ids(township=story.m.v.township, right_type="land_management") == [
        "L-A",
        "L-B",
        "L-C",
        "L-D",
        "L-E",
    ]
    assert await ids(right_type="homestead") == []
    first = await story.get(LISTINGS, limit=3)
    assert [x["id"] for x in first["items"]] == ["L-A", "L-B", "L-C"] and first["next"] == "L-C"
    rest = await story.get(LISTINGS, limit=3, after=first["next"])
    assert [x["id"] for x in rest["items"]] == ["L-D", "L-E"] and rest["next"] is None


async def test_countdowns_are_by_the_ledgers_clock(story: Story) -> None:
    announced, at = story.seen["announced"]
    assert [x["id"] for x in announced["items"]] == ["L-A", "L-B", "L-C", "L-E"]
    for x in announced["items"]:
        assert x["phase"] == "announcement" and x["high_bid"] is None and x["bidders"] == 0
        assert x["closes_in_seconds"] == (parse_time(x["bidding_closes_at"]) - at).total_seconds()
    # The late bid two minutes before the close moved it five minutes past the bid.
    late = items_by_id(story.seen["late"])["L-A"]
    assert late["phase"] == "bidding" and late["closes_in_seconds"] == 300
    assert late["bidding_closes_at"] == format_time(parse_time(story.late_at) + timedelta(minutes=5))
    assert late["high_bid"]["bidder"] == "竞买人 3" and late["high_bid"]["amount_fen"] == 100_000
    # The priority holder's equal bid made it the high bidder.
    assert (
        story.seen["tie"]["high_bid"]["number"] == 1 and story.seen["tie"]["high_bid"]["amount_fen"] == 80_000
    )


async def test_a_held_listing_has_no_countdown(story: Story) -> None:
    held = story.seen["held"]
    assert held["held"] is True and held["phase"] == "held" and held["closes_in_seconds"] is None
    assert [s["kind"] for s in held["steps"]] == ["exchange.listed", "exchange.held"]


async def test_a_defaulting_winner_passes_the_high_bid_to_the_runner_up(story: Story) -> None:
    e = await story.get(f"{LISTINGS}/L-E")
    assert (e["status"], e["phase"], e["closes_in_seconds"], e["result"]) == ("announced", "closed", 0, None)
    assert e["high_bid"]["number"] == 2 and e["high_bid"]["amount_fen"] == 80_000
    assert e["high_bid"]["seq"] == story.seqs["E_runner_up"]
    assert [s["kind"] for s in e["steps"]][-2:] == ["exchange.awarded", "exchange.defaulted"]
    results = await story.get("/v1/exchange/results")
    assert "L-E" not in [x["id"] for x in results["items"]]


# A listing's history and its proofs -------------------------------------------------------------


async def test_every_step_verifies_against_the_signed_checkpoint(story: Story, openapi: OpenAPI) -> None:
    r = await story.fx.client.http.get(f"{LISTINGS}/L-A")
    openapi.check(r)
    doc = r.json()
    cp = open_checkpoint(doc["checkpoint"]["note"], story.fx.verifier, origin=story.fx.origin)
    assert cp.size == doc["checkpoint"]["size"] == doc["as_of"] + 1
    assert cp.root_hash.hex() == doc["checkpoint"]["root_hash"]
    kinds = [s["kind"] for s in doc["steps"]]
    assert kinds == [
        "exchange.listed",
        *["exchange.bidder_registered", "exchange.deposit_received"] * 3,
        *["exchange.bid"] * 4,
        "exchange.awarded",
    ]
    assert [s["seq"] for s in doc["steps"]] == sorted(s["seq"] for s in doc["steps"])
    for step in doc["steps"]:
        record = await story.get(f"/v1/entries/{step['seq']}")
        assert record_leaf(record).hex() == step["leaf_hash"]
        verify_inclusion(
            bytes.fromhex(step["leaf_hash"]),
            step["seq"],
            cp.size,
            [bytes.fromhex(h) for h in step["inclusion_proof"]],
            cp.root_hash,
        )
        entry = record["entry"]
        assert (entry["kind"], entry["payload"]["listing"]) == (step["kind"], "L-A")
        assert record["recorded_at"] == step["at"]
        if step["kind"] in ("exchange.bid", "exchange.awarded"):
            payload = entry["payload"]
            assert (payload["bidder"], payload["amount_fen"]) == (step["number"], step["amount_fen"])
            assert step["bidder"] == f"竞买人 {step['number']}"
    bids = [(s["number"], s["amount_fen"]) for s in doc["steps"] if s["kind"] == "exchange.bid"]
    assert bids == [(3, 80_000), (1, 80_000), (2, 90_000), (3, 100_000)]


async def test_a_tampered_proof_does_not_verify(story: Story) -> None:
    from ledger.errors import IntegrityError

    doc = await story.get(f"{LISTINGS}/L-A")
    cp = open_checkpoint(doc["checkpoint"]["note"], story.fx.verifier, origin=story.fx.origin)
    step = doc["steps"][-1]
    proof = [bytes.fromhex(h) for h in step["inclusion_proof"]]
    proof[0] = bytes(b ^ 1 for b in proof[0])
    with pytest.raises(IntegrityError):
        verify_inclusion(bytes.fromhex(step["leaf_hash"]), step["seq"], cp.size, proof, cp.root_hash)


async def test_unknown_and_malformed_listings(story: Story, openapi: OpenAPI) -> None:
    http = story.fx.client.http
    missing = await http.get(f"{LISTINGS}/L-NONE")
    assert missing.status_code == 404 and missing.json()["code"] == "exchange.listing_not_found"
    openapi.check(missing)
    for bad in ("%00", "bad%20id", "x" * 65, "-leading-dash"):
        r = await http.get(f"{LISTINGS}/{bad}")
        assert r.status_code == 400, (bad, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["code"] == "request.invalid_parameters"
        openapi.check(r)


# Results and the feed --------------------------------------------------------------------------


async def test_results_in_the_order_they_were_recorded(story: Story, openapi: OpenAPI) -> None:
    r = await story.fx.client.http.get("/v1/exchange/results")
    openapi.check(r)
    page = r.json()
    assert [(x["id"], x["outcome"], x["seq"]) for x in page["items"]] == [
        ("L-B", "withdrawn", story.seqs["B"]),
        ("L-C", "failed", story.seqs["C"]),
        ("L-A", "awarded", story.seqs["A_awarded"]),
    ]
    awarded = page["items"][2]
    assert awarded["result"]["winner"] == "竞买人 3" and awarded["result"]["price_fen"] == 100_000
    assert awarded["date"] == awarded["result"]["awarded_on"]
    assert page["items"][0]["result"] is None and page["next"] is None
    record = await story.get(f"/v1/entries/{awarded['seq']}")
    assert record["recorded_at"] == awarded["at"]
    first = await story.get("/v1/exchange/results", limit=1)
    assert [x["id"] for x in first["items"]] == ["L-B"] and first["next"] == story.seqs["B"]
    rest = await story.get("/v1/exchange/results", after=first["next"])
    assert [x["id"] for x in rest["items"]] == ["L-C", "L-A"]


async def test_the_atom_feed(story: Story, openapi: OpenAPI) -> None:
    r = await story.fx.client.http.get("/v1/exchange/feed.atom")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    openapi.check(r)
    feed = ET.fromstring(r.content)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    entries = feed.findall(f"{ATOM}entry")
    expected = [
        ("exchange.listed", "L-D", story.seqs["D"]),
        ("exchange.defaulted", "L-E", story.seqs["E_defaulted"]),
        ("exchange.awarded", "L-E", story.seqs["E_awarded"]),
        ("exchange.awarded", "L-A", story.seqs["A_awarded"]),
        ("exchange.failed", "L-C", story.seqs["C"]),
        ("exchange.withdrawn", "L-B", story.seqs["B"]),
    ]
    kinds = [category.get("term") for e in entries if (category := e.find(f"{ATOM}category")) is not None]
    assert kinds[:6] == [k for k, _, _ in expected] and kinds[6:] == ["exchange.listed"] * 4
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids) == 10
    origin = story.fx.origin
    for (_, listing, seq), entry_id in zip(expected, ids, strict=False):
        assert entry_id == f"urn:rural-ledger:{origin}:exchange:{listing}:{seq}"
    times = [parse_time(e.findtext(f"{ATOM}updated") or "") for e in entries]
    assert times == sorted(times, reverse=True)
    assert feed.findtext(f"{ATOM}updated") == entries[0].findtext(f"{ATOM}updated")
    assert "违约公告 L-E：竞买人 1" in (entries[1].findtext(f"{ATOM}title") or "")
    assert "成交公示 L-A：竞买人 3" in (entries[3].findtext(f"{ATOM}title") or "")
    for e in entries:
        link = e.find(f"{ATOM}link")
        assert link is not None and link.get("rel") == "alternate"
        url = urlsplit(link.get("href") or "")
        assert url.scheme == "http" and url.netloc and url.path.startswith(f"{LISTINGS}/L-")
        assert (await story.get(url.path))["id"] == url.path.rsplit("/", 1)[1]
    again = ET.fromstring((await story.fx.client.http.get("/v1/exchange/feed.atom")).content)
    assert [e.findtext(f"{ATOM}id") for e in again.findall(f"{ATOM}entry")] == ids
    two = ET.fromstring((await story.fx.client.http.get("/v1/exchange/feed.atom?limit=2")).content)
    assert [e.findtext(f"{ATOM}id") for e in two.findall(f"{ATOM}entry")] == ids[:2]


# No personal data in public -------------------------------------------------------------------


async def test_public_reads_show_no_bidder_or_holder(story: Story, ledger: LedgerFixture) -> None:
    http = ledger.client.http
    public = [
        (await http.get(LISTINGS)).text,
        *[(await http.get(f"{LISTINGS}/{x}")).text for x in ("L-A", "L-B", "L-C", "L-D", "L-E")],
        (await http.get("/v1/exchange/results")).text,
        (await http.get("/v1/exchange/feed.atom")).text,
    ]
    secrets = [
        *story.m.buyers,
        story.m.seller,
        *(b[k] for b in (COOPERATIVE, FAMILY_FARM) for k in ("name", "credit_code")),
    ]
    for text in public:
        for secret in secrets:
            assert secret not in text
    assert "竞买人 1" in public[1] and "竞买人 3" in public[1]


# A bidder's registration, for its exchange centre only ----------------------------------------


async def test_the_exchange_reads_its_bidders(story: Story, openapi: OpenAPI) -> None:
    fx, m = story.fx, story.m
    http = fx.client.http
    r = await http.get(f"{LISTINGS}/L-A/bidders/1", auth=fx.client.signed_by(m.key))
    openapi.check(r)
    member = r.json()
    assert (member["bidder"], member["kind"], member["party"]) == ("竞买人 1", "party", m.buyers[0])
    assert member["priority"] is True and member["credit_code"] is None
    assert (
        member["deposit"]["state"] == "held"
        and member["deposit"]["amount_fen"] == m.payloads["L-A"]["deposit_fen"]
    )
    assert [a["kind"] for a in member["acts"]] == [
        "exchange.bidder_registered",
        "exchange.deposit_received",
        "exchange.bid",
    ]
    entity_doc = (await http.get(f"{LISTINGS}/L-A/bidders/3", auth=fx.client.signed_by(m.key))).json()
    assert entity_doc["party"] is None and entity_doc["priority"] is False
    assert (entity_doc["credit_code"], entity_doc["name"]) == (
        COOPERATIVE["credit_code"],
        COOPERATIVE["name"],
    )
    bids = [(a["seq"], a["amount_fen"]) for a in entity_doc["acts"] if a["kind"] == "exchange.bid"]
    assert bids[-1] == (story.seqs["late"], 100_000) and len(bids) == 2
    assert entity_doc["acts"][-1]["kind"] == "exchange.awarded"
    assert entity_doc["best_fen"] == 100_000 and entity_doc["best_seq"] == story.seqs["late"]
    for number, code in ((9, "exchange.bidder_not_found"),):
        missing = await http.get(f"{LISTINGS}/L-A/bidders/{number}", auth=fx.client.signed_by(m.key))
        assert missing.status_code == 404 and missing.json()["code"] == code
    unknown = await http.get(f"{LISTINGS}/L-NONE/bidders/1", auth=fx.client.signed_by(m.key))
    assert unknown.status_code == 404 and unknown.json()["code"] == "exchange.listing_not_found"


async def test_bidders_are_refused_to_anyone_else(story: Story, openapi: OpenAPI) -> None:
    fx, m = story.fx, story.m
    http = fx.client.http
    path = f"{LISTINGS}/L-A/bidders/1"
    unsigned = await http.get(path)
    assert unsigned.status_code == 401 and unsigned.json()["code"] == "auth.required"
    openapi.check(unsigned)
    if "x-other" not in fx.keys:
        await fx.register("county", "x-other", "exchange_center")
    for key in (m.v.key, fx.keys["county"], fx.keys["x-other"]):
        r = await http.get(path, auth=fx.client.signed_by(key))
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden", r.text
        openapi.check(r)
        assert m.buyers[0] not in r.text
    zero = await http.get(f"{LISTINGS}/L-A/bidders/0", auth=fx.client.signed_by(m.key))
    assert zero.status_code == 400 and zero.json()["code"] == "request.invalid_parameters"


# Hostile parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"{LISTINGS}?limit=0",
        f"{LISTINGS}?limit=1001",
        f"{LISTINGS}?limit={10**30}",
        f"{LISTINGS}?limit=ten",
        f"{LISTINGS}?status=sold",
        f"{LISTINGS}?status=%00",
        f"{LISTINGS}?right_type=land",
        f"{LISTINGS}?exchange=x%00",
        f"{LISTINGS}?township=%E5%8C%97",
        f"{LISTINGS}?after=" + "a" * 65,
        "/v1/exchange/results?after=-2",
        f"/v1/exchange/results?after={2**63}",
        f"/v1/exchange/results?after={10**40}",
        "/v1/exchange/results?limit=-1",
        "/v1/exchange/feed.atom?limit=0",
        f"/v1/exchange/feed.atom?limit={2**64}",
        f"{LISTINGS}/L-A/bidders/{10**30}",
    ],
)
async def test_hostile_parameters_are_400_problems(story: Story, openapi: OpenAPI, url: str) -> None:
    r = await story.fx.client.http.get(url, auth=story.fx.client.signed_by(story.m.key))
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "request.invalid_parameters"
    openapi.check(r)
