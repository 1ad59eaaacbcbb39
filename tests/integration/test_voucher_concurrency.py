"""Twenty concurrent redemptions of one house voucher whose sum exceeds its balance, over HTTP
sockets (uvicorn in this process, so that the test's clock is the ledger's), one request each
as developers' clients send them. The accepted redemptions sum to at most the balance (here
exactly seven fit, whatever the order), every other one is refused with
``voucher.beyond_balance``, the movements in seq order step the balance down by each accepted
amount, and the balance a replay of the log computes is the one the service shows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from contracts.replay import Replay
from contracts.vouchers.tables import Voucher
from tests.conftest import FakeClock
from tests.exchange_http import served_ledger
from tests.replay_check import assert_replay_matches_projections
from tests.voucher_http import FACE_FEN, VoucherMarket

REDEMPTIONS = 20
# 4,000,000 fen + 1,000 × i: any seven sum to at most 28,112,000 and any eight to at least
# 32,028,000, so of a 30,000,000 voucher exactly seven fit, and the balance they leave
# (at least 1,888,000) is below every amount: the rest are beyond the balance, never a spent
# voucher's refusal.
AMOUNTS = [4_000_000 + 1_000 * i for i in range(REDEMPTIONS)]
FIT = 7
RECORD_KEYS = ("seq", "recorded_at", "entry", "sig")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def market(
    database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[VoucherMarket]:
    url = await database_factory()
    async with served_ledger(url, Path(tmp_path_factory.mktemp("home")), FakeClock()) as fx:
        m = await VoucherMarket.open_vouchers(fx, "race", households=1, held=0, cash=0)
        yield m
        await m.close()


async def records(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every record of the log, paged, as hashed (``leaf_hash`` dropped)."""
    out: list[dict[str, Any]] = []
    after = -1
    while True:
        page = (await http.get("/v1/entries", params={"after": after, "limit": 1000})).json()
        out += [{k: item[k] for k in RECORD_KEYS} for item in page["items"]]
        if page["next"] is None:
            return out
        after = page["next"]


async def statement(http: httpx.AsyncClient, voucher: str) -> dict[str, Any]:
    r = await http.get(f"/v1/vouchers/{voucher}")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_twenty_concurrent_redemptions_of_one_voucher(market: VoucherMarket) -> None:
    m, fx = market, market.fx
    http = fx.client.http
    voucher = await m.issue()
    holder = (await m.holders_of(voucher))[0]
    assert sum(AMOUNTS) > FACE_FEN
    payloads = [
        m.redeem_payload(voucher, amount, holder, redemption=f"R-race-{i}", unit=f"3-{i + 1:03d}")
        for i, amount in enumerate(AMOUNTS)
    ]
    items = [fx.sign(m.key_of(m.developer), "voucher.redeemed", p) for p in payloads]
    responses = await asyncio.gather(*(http.post("/v1/entries", json=item) for item in items))

    accepted: list[tuple[int, int, str]] = []  # (seq, amount, redemption)
    for payload, r in zip(payloads, responses, strict=True):
        assert r.status_code < 500, r.text
        body = r.json()
        if r.status_code == 200:
            accepted.append((body["seq"], payload["amount_fen"], payload["redemption"]))
        else:
            assert r.headers["content-type"].startswith("application/problem+json")
            assert (r.status_code, body["code"]) == (422, "voucher.beyond_balance"), body
    assert len(accepted) == FIT
    used = sum(amount for _, amount, _ in accepted)
    assert used <= FACE_FEN

    # The movements, in seq order, step the balance down by each accepted amount.
    assert m.db is not None
    movements = await m.db.fetch(
        "SELECT seq, kind, amount_fen, balance_fen, ref FROM voucher_movements"
        " WHERE voucher_id = $1 ORDER BY seq",
        voucher,
    )
    assert movements[0]["kind"] == "voucher.issued" and movements[0]["balance_fen"] == FACE_FEN
    balance = FACE_FEN
    for row, (seq, amount, redemption) in zip(movements[1:], sorted(accepted), strict=True):
        balance -= amount
        assert (row["seq"], row["kind"], row["amount_fen"], row["balance_fen"], row["ref"]) == (
            seq,
            "voucher.redeemed",
            amount,
            balance,
            redemption,
        )
    assert balance == FACE_FEN - used

    # The service's balance (its read and its projection) is the one a replay of the log computes.
    shown = (await statement(http, voucher))["voucher"]
    row = await m.voucher_row(voucher)
    replay = Replay(fx.origin).apply_all(await records(http))
    replayed = replay.memory.load(Voucher, (voucher,))
    assert replayed is not None
    assert (
        shown["balance_fen"],
        shown["used_fen"],
        row["balance_fen"],
        replayed.balance_fen,
        replayed.used_fen,
        replayed.redemptions,
    ) == (balance, used, balance, balance, used, FIT)
    assert shown["bonus_fen"] == replayed.bonus_fen == sum(a * 500 // 10_000 for _, a, _ in accepted)
    await assert_replay_matches_projections(fx.url, fx.origin)
