"""Fifty bidders at once on one listing, over HTTP sockets (uvicorn in this process, so that the
test's clock is the ledger's): rounds of fifty concurrent bid submissions, one request each, as
bidders' clients send them. The accepted bids rise by at least the increment in seq order,
each refused bid carries its code, late bids move the close as the county's policy says, and
the award the service accepts is the one a replay of the log computes."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from contracts.exchange.outcome import ranking
from contracts.exchange.tables import Listing, ListingBidder
from contracts.replay import Replay
from ledger.entry import format_time, parse_time
from tests.conftest import FakeClock
from tests.exchange_http import ExchangeHttp, entity, served_ledger
from tests.replay_check import assert_replay_matches_projections

LISTING = "L-race"
BIDDERS = 50  # each bids once a round
MEMBERS = 4  # of them members of the collective (priority holders), the rest entities
UNPAID = 2  # registered bidders who paid no deposit, bidding alongside
RESERVE = 1_000_000  # fen, total price
INCREMENT = 20_000
BELOW_RESERVE = 5  # bidders whose first-round bid is under the reserve
RECORD_KEYS = ("seq", "recorded_at", "entry", "sig")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def market(
    database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ExchangeHttp]:
    url = await database_factory()
    async with served_ledger(url, Path(tmp_path_factory.mktemp("home")), FakeClock()) as fx:
        yield await ExchangeHttp.build(fx, "race", buyers=MEMBERS, parcels=1)


async def records(http: httpx.AsyncClient, after: int = -1) -> list[dict[str, Any]]:
    """Every record after ``after``, paged, as hashed (``leaf_hash`` dropped)."""
    out: list[dict[str, Any]] = []
    while True:
        page = (await http.get("/v1/entries", params={"after": after, "limit": 1000})).json()
        out += [{k: item[k] for k in RECORD_KEYS} for item in page["items"]]
        if page["next"] is None:
            return out
        after = page["next"]


async def register_all(x: ExchangeHttp) -> tuple[list[int], list[int]]:
    """The bidders, registered in one list submission (numbers follow its order), then the
    deposits of all but the unpaid ones in another: (paid numbers, unpaid numbers)."""
    fx = x.fx
    bidders = [{"type": "party", "party": p} for p in x.buyers]
    bidders += [entity(5000 + i, f"文登第{i}农业专业合作社") for i in range(BIDDERS + UNPAID - MEMBERS)]
    registrations = [
        fx.sign(
            x.key,
            "exchange.bidder_registered",
            {
                "listing": LISTING,
                "bidder": b,
                "application": "a" * 64,
                "agricultural_capacity": "c" * 64,
            },
        )
        for b in bidders
    ]
    assert all("seq" in r for r in await fx.client.submit_many(registrations, minimal=True))
    numbers = list(range(1, len(bidders) + 1))
    paid, unpaid = numbers[:BIDDERS], numbers[BIDDERS:]
    deposit = x.payloads[LISTING]["deposit_fen"]
    deposits = [
        fx.sign(
            x.key,
            "exchange.deposit_received",
            {"listing": LISTING, "bidder": n, "amount_fen": deposit, "bank_reference": f"{n:064x}"},
        )
        for n in paid
    ]
    assert all("seq" in r for r in await fx.client.submit_many(deposits, minimal=True))
    return paid, unpaid


async def bid_round(x: ExchangeHttp, at: datetime, bids: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """All ``bids`` (bidder, amount) submitted concurrently, one request each, with the
    ledger's clock at ``at``; each answer with its bid."""
    x.move_to(at)
    assert x.now() == at
    items = [
        x.fx.sign(x.key, "exchange.bid", {"listing": LISTING, "bidder": n, "amount_fen": a}) for n, a in bids
    ]
    http = x.fx.client.http
    responses = await asyncio.gather(*(http.post("/v1/entries", json=item) for item in items))
    answers = []
    for (number, amount), r in zip(bids, responses, strict=True):
        assert r.status_code < 500, r.text
        body = r.json()
        if r.status_code == 200:
            answers.append({"bidder": number, "amount": amount, "seq": body["seq"], "at": at})
        else:
            assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem")
            answers.append({"bidder": number, "amount": amount, "code": body["code"], "at": at})
    return answers


def round_bids(rng: random.Random, paid: list[int], unpaid: list[int], base: int) -> list[tuple[int, int]]:
    """Every paid bidder once, at distinct amounts ``base`` + k × increment in a shuffled
    order, and every unpaid bidder above them all."""
    steps = list(range(len(paid)))
    rng.shuffle(steps)
    bids = [(n, base + k * INCREMENT) for n, k in zip(paid, steps, strict=True)]
    bids += [(n, base + (len(paid) + 1) * INCREMENT) for n in unpaid]
    rng.shuffle(bids)
    return bids


async def test_fifty_concurrent_bidders(market: ExchangeHttp) -> None:
    x, fx = market, market.fx
    http = fx.client.http
    await x.list(LISTING, price_unit="total", reserve_fen=RESERVE, increment_fen=INCREMENT)
    paid, unpaid = await register_all(x)
    policy = (await http.get("/v1/policy", params={"org": x.exchange})).json()["numbers"]
    extension = timedelta(minutes=policy["late_bid_extension_minutes"]["value"])
    assert extension > timedelta(0)

    async def shown() -> dict[str, Any]:
        r = await http.get(f"/v1/exchange/listings/{LISTING}")
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    opens = parse_time(x.payloads[LISTING]["bidding_opens_at"])
    first_close = parse_time((await shown())["bidding_closes_at"])
    rng = random.Random(13)
    answers: list[dict[str, Any]] = []

    # Round 1, early in the window: five bidders under the reserve, the rest above it.
    bids = round_bids(rng, paid, unpaid, RESERVE)
    low = set(paid[:BELOW_RESERVE])
    bids = [(n, RESERVE - 1_000 * n if n in low else a) for n, a in bids]
    answers += await bid_round(x, opens + timedelta(minutes=1), bids)
    # Round 2 three minutes before the close: late, it moves the close.
    answers += await bid_round(
        x, first_close - timedelta(minutes=3), round_bids(rng, paid, unpaid, RESERVE + 100 * INCREMENT)
    )
    close = parse_time((await shown())["bidding_closes_at"])
    # Round 3 a minute before the moved close; round 4 at it, when bidding is over.
    answers += await bid_round(
        x, close - timedelta(minutes=1), round_bids(rng, paid, unpaid, RESERVE + 200 * INCREMENT)
    )
    close = parse_time((await shown())["bidding_closes_at"])
    answers += await bid_round(x, close, round_bids(rng, paid, unpaid, RESERVE + 300 * INCREMENT))
    assert len(answers) == 4 * (BIDDERS + UNPAID)

    # Each refused bid has the code its bid calls for.
    for a in answers:
        if a["bidder"] in unpaid:
            expected = {"exchange.no_deposit"}
        elif a["at"] >= close:
            expected = {"exchange.bidding_closed"}
        elif a["amount"] < RESERVE:
            expected = {"exchange.bid_below_reserve"}
        else:
            expected = {None, "exchange.bid_below_increment"}  # accepted, or outbid first
        assert a.get("code") in expected, a

    # Accepted bids, in seq order, rise by at least the increment; each round's highest bid
    # (which no concurrent bid can outrank) is among them.
    accepted = sorted((a for a in answers if "seq" in a), key=lambda a: a["seq"])
    assert len(accepted) >= 3
    for before, after in itertools.pairwise(accepted):
        assert after["amount"] >= before["amount"] + INCREMENT, (before, after)
    for at in sorted({a["at"] for a in answers if a["at"] < close}):
        top = max((a for a in answers if a["at"] == at and a["bidder"] in paid), key=lambda a: a["amount"])
        assert "seq" in top, f"the round's highest bid was refused: {top}"

    # The close moved as the policy says: a bid within the last N minutes moves it to the bid's
    # time + N minutes, in seq order over the records as logged; every bid accepted came
    # before the close in force when it was made.
    listed_seq = (await shown())["listed_seq"]
    log = await records(http, after=listed_seq)
    expected_close = first_close
    for rec in log:
        if rec["entry"]["kind"] != "exchange.bid":
            continue
        t = parse_time(rec["recorded_at"])
        assert t < expected_close
        if t >= expected_close - extension:
            expected_close = t + extension
    assert (
        expected_close == close == first_close - timedelta(minutes=3) + extension * 2 - timedelta(minutes=1)
    )
    assert format_time(close) == (await shown())["bidding_closes_at"]

    # The award: the one ranking computes on the state replayed from the log, and no other.
    x.move_to(close + timedelta(minutes=1))
    replay = Replay(fx.origin).apply_all(await records(http))
    row = replay.memory.load(Listing, (LISTING,))
    assert row is not None
    order = ranking(row, replay.memory.load_where(ListingBidder, {"listing_id": LISTING}))
    winner = order[0]
    assert (winner.number, winner.best_fen) == (accepted[-1]["bidder"], accepted[-1]["amount"])
    runner_up = order[1]
    wrong = await fx.submit(
        x.key,
        "exchange.awarded",
        {"listing": LISTING, "bidder": runner_up.number, "amount_fen": winner.best_fen},
    )
    assert (wrong.status_code, wrong.json()["code"]) == (422, "exchange.wrong_winner")
    receipt = await x.award(LISTING, winner.number, winner.best_fen)
    awarded = (await http.get(f"/v1/entries/{receipt['seq']}")).json()["entry"]
    assert awarded["kind"] == "exchange.awarded"
    assert awarded["payload"] == {"listing": LISTING, "bidder": winner.number, "amount_fen": winner.best_fen}
    result = (await shown())["result"]
    assert (result["number"], result["price_fen"]) == (winner.number, winner.best_fen)
    await assert_replay_matches_projections(fx.url, fx.origin)
