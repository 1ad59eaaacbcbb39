"""The public pages (no sign-in) and the auditor's desk through real HTTP against real
PostgreSQL: the announcement board with its filters, pages and countdowns by the service's
clock, a listing's announcement and result with its certificate's verification link, the
results; the latest checkpoint with a witness's cosignature made through the witness API; the
auditor's read-only desk. No page shows a bidder's name or ID number; hostile queries are 4xx
pages, never 500; every page with all it loads under 100 KB and nothing from elsewhere."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest_asyncio

from api.cli.witness import witness_once
from api.client import Person
from api.service.witness_push import WitnessEndpoint
from ledger.checkpoint import parse_note
from ledger.entry import parse_time
from ledger.witness import CosignerSigner, generate_cosigner
from tests.exchange_http import Market
from tests.integration.test_console_accounts import Browser
from tests.integration.test_console_roles import ID_NUMBER, NAME, household_of, signed_in
from tests.integration.test_console_township import add_users
from tests.page_weight import LIMIT_BYTES, page_weight
from tests.support import LedgerFixture

OPEN = [f"PB-L{n:02d}" for n in range(1, 23)]  # 22 open listings: two pages of the board
SOLD = "PB-A"


@dataclass
class Board:
    fx: LedgerFixture
    m: Market
    person: Person
    certificate_seq: int


async def certified_sale(m: Market, listing: str) -> tuple[Person, dict[str, Any]]:
    """``listing`` sold to a cooperative over the bid of a member with a distinctive name and ID
    number (NAME, ID_NUMBER: what no public page may show), through to its certificate: the
    member, and the certificate's receipt."""
    person = Person(str(uuid.uuid4()), NAME, ID_NUMBER, "M", "1977-07-07", "13900000001")
    await household_of(m.v, person)
    await m.lot(listing)
    mine = await m.register(listing, person.party)
    other = await m.register_entity(listing)
    m.open_bidding(listing)
    await m.bid(listing, mine, 80_000)
    await m.bid(listing, other, 90_000)
    await m.after_close(listing)
    await m.award(listing, other, 90_000)
    await m.sign_contract(listing)
    await m.pay(listing)
    return person, cast(dict[str, Any], await m.certify(listing))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def board(ledger: LedgerFixture, tmp_path_factory: Any) -> AsyncIterator[Board]:
    fx = ledger
    m = await Market.open(fx, "pb", parcels=30, buyers=1, full=False)
    try:
        person, certified = await certified_sale(m, SOLD)
        for listing in OPEN:
            await m.lot(listing)
        await add_users(
            fx,
            [
                ("county", "auditor", "pb-auditor"),
                (m.exchange, "exchange_staff", "pb-staff"),
                (m.v.village, "collective_clerk", "pb-clerk"),
            ],
        )
        yield Board(fx, m, person, int(certified["seq"]))
    finally:
        await m.close()


def anonymous(b: Board) -> Browser:
    return Browser(b.fx)


def no_personal_data(text: str) -> None:
    assert NAME not in text and ID_NUMBER not in text


def left_text(b: Board, listing: str) -> str:
    """The countdown the board shows for ``listing`` now, by the ledger's clock."""
    closes = parse_time(b.m.payloads[listing]["bidding_closes_at"])
    seconds = int((closes - b.fx.clock()).total_seconds())
    return f"距竞价结束 {seconds // 86400} 天 {seconds % 86400 // 3600} 小时 {seconds % 3600 // 60} 分"


async def test_the_board_shows_open_listings_with_terms_countdown_and_pages(board: Board) -> None:
    visitor = anonymous(board)
    first = await visitor.get("/board?status=open")
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("text/html")
    rows = [x for x in OPEN if f'href="/board/{x}"' in first.text]
    assert rows == OPEN[:20], rows  # a page holds 20, in listing id order
    assert "800.00 元/亩·年" in first.text and "土地经营权" in first.text and "出租" in first.text
    assert left_text(board, OPEN[0]) in first.text
    assert "/v1/exchange/feed.atom" in first.text
    assert f'href="/board?status=open&amp;after={OPEN[19]}"' in first.text
    second = await visitor.get(f"/board?status=open&after={OPEN[19]}")
    assert second.status_code == 200
    assert all(f'href="/board/{x}"' in second.text for x in OPEN[20:])
    assert f'href="/board/{OPEN[0]}"' not in second.text and 'rel="next"' not in second.text
    no_personal_data(first.text + second.text)


async def test_the_board_filters_by_exchange_township_right_and_status(board: Board) -> None:
    visitor = anonymous(board)
    m = board.m
    listed = f'href="/board/{OPEN[0]}"'
    sold = f'href="/board/{SOLD}"'
    for query, shown, hidden in (
        (f"exchange={m.exchange}", [listed, sold], []),
        ("exchange=x-nowhere", [], [listed, sold]),
        (f"township={m.v.township}&status=certified", [sold], [listed]),
        ("right_type=land_management&status=open", [listed], [sold]),
        ("right_type=homestead", ["没有符合条件的挂牌项目"], [listed, sold]),
    ):
        r = await visitor.get(f"/board?{query}")
        assert r.status_code == 200, (query, r.text)
        assert all(s in r.text for s in shown), query
        assert not any(h in r.text for h in hidden), query
    chosen = await visitor.get(f"/board?exchange={m.exchange}")
    assert f'<option value="{m.exchange}" selected>' in chosen.text


async def test_a_listing_shows_its_announcement_result_and_certificate(board: Board) -> None:
    visitor = anonymous(board)
    r = await visitor.get(f"/board/{SOLD}")
    assert r.status_code == 200, r.text
    assert "竞买人 2 竞得" in r.text and "900.00 元/亩·年" in r.text
    assert f"JY-{SOLD}" in r.text and f'href="/verify/{board.certificate_seq}"' in r.text
    assert "竞买人 1" in r.text and "已发交易鉴证书" in r.text
    assert "报价" in r.text and "成交" in r.text
    no_personal_data(r.text)
    english = await visitor.get(f"/board/{SOLD}?lang=en")
    assert "awarded to 竞买人 2" in english.text and "Transaction certificate" in english.text
    assert "900.00 yuan/mu/year" in english.text
    results = await visitor.get("/board/results?lang=zh")
    assert results.status_code == 200 and f'href="/board/{SOLD}"' in results.text
    assert "成交" in results.text and "900.00" in results.text
    no_personal_data(results.text)
    verified = await visitor.get(f"/verify/{board.certificate_seq}")
    assert verified.status_code == 200


async def test_no_public_page_shows_a_bidder_s_name_or_id_number(board: Board) -> None:
    visitor = anonymous(board)
    paths = ["/board", "/board?status=certified", "/board/results", "/checkpoint", "/"]
    paths += [f"/board/{x}" for x in (SOLD, *OPEN[:3])]
    paths += ["/v1/exchange/feed.atom", f"/v1/exchange/listings/{SOLD}", "/v1/exchange/results"]
    for path in paths:
        for lang in ("zh", "en"):
            r = await visitor.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
            assert r.status_code == 200, (path, r.status_code)
            no_personal_data(r.text)
    # The test can fail: the village's own clerk does see the name.
    clerk = await signed_in(board.fx, "pb-clerk")
    assert NAME in (await clerk.get("/console/collective/people")).text


async def test_hostile_queries_are_pages_of_4xx_never_500(board: Board) -> None:
    visitor = anonymous(board)
    long = "x" * 5000
    for path, status in (
        ("/board?after=" + "9" * 400, 400),
        ("/board?exchange=%00", 400),
        ("/board?township=" + long, 400),
        ("/board?status=bogus", 400),
        ("/board?right_type=%E2%80%AE", 400),
        ("/board?after=a%00b", 400),
        ("/board/results?after=" + "9" * 40, 400),
        ("/board/results?after=-5", 400),
        ("/board/results?after=abc", 400),
        ("/board/NO-SUCH-LISTING", 404),
        ("/board/%00", 404),
        ("/board/" + long, 404),
        ("/checkpoint?size=0", 400),
        ("/checkpoint?size=" + "9" * 30, 400),
        ("/checkpoint?size=-1", 400),
        ("/checkpoint?size=%00", 400),
        ("/checkpoint?size=999999", 404),
    ):
        r = await visitor.get(path)
        assert r.status_code == status, (path, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("text/html"), path
        assert "<h1>" in r.text
    assert (await visitor.get("/board/..%2F..%2Fetc")).status_code == 404  # no route: the API's 404
    empty = await visitor.get("/board?after=" + "z" * 60)
    assert "没有符合条件的挂牌项目" in empty.text


async def test_the_checkpoint_page_shows_the_latest_and_a_witness_cosignature(
    board: Board, tmp_path: Path, monkeypatch: Any
) -> None:
    fx = board.fx
    visitor = anonymous(board)
    witness = CosignerSigner.from_string(generate_cosigner("w1.example/witness")[0])
    # The service is configured with this witness (RURAL_LEDGER_WITNESSES): its pusher knows it.
    pusher = fx.client.http.app.state.witness_pusher  # type: ignore[attr-defined]
    endpoint = WitnessEndpoint("http://w1.example", witness.verifier())
    monkeypatch.setattr(pusher, "witnesses", (endpoint,))
    outcome = await witness_once(fx.client.http, fx.verifier, witness, tmp_path / "w1")
    assert outcome.status == "cosigned", outcome.message
    note = (await fx.client.http.get("/v1/checkpoint")).text
    origin, size, root_b64 = note.splitlines()[:3]
    r = await visitor.get("/checkpoint")
    assert r.status_code == 200, r.text
    cps = (await fx.client.http.get(f"/v1/checkpoints?after={int(size) - 1}")).json()["items"]
    assert f"{int(size):,}" in r.text and cps[0]["root_hash"] in r.text and origin in r.text
    assert root_b64 in r.text  # the note itself
    assert "w1.example/witness" in r.text and "签名有效" in r.text and "本服务配置的见证方" in r.text
    assert f"rural-ledger verify https://testserver.local --operator-key '{fx.verifier}'" in r.text
    older = await visitor.get("/checkpoint?size=1")
    assert older.status_code == 200 and "还没有见证方联署" in older.text
    english = await visitor.get("/checkpoint?lang=en")
    assert "Witness cosignatures" in english.text and "valid (checked with this witness key)" in english.text


async def test_public_pages_are_light_cached_briefly_and_load_nothing_from_elsewhere(board: Board) -> None:
    visitor = anonymous(board)
    for path in ("/board", "/board/results", f"/board/{SOLD}", "/checkpoint", "/board/NOPE"):
        weight = await page_weight(board.fx.client.http, path)
        assert weight.total < LIMIT_BYTES, (path, weight.sizes)
        assert not weight.external, (path, weight.external)
        r = await visitor.get(path)
        assert r.headers["cache-control"].startswith("public, max-age="), path
        assert r.headers["vary"] == "Cookie"
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert "rl_session" not in r.headers.get("set-cookie", "")
    switched = await visitor.get("/board?lang=en")
    assert switched.headers["cache-control"] == "no-store"  # it sets the reader's cookie
    assert "Announcement board" in switched.text
    assert "Announcement board" in (await visitor.get("/board")).text  # the cookie kept it


async def test_the_auditor_s_desk_reads_checkpoints_and_the_state_digest(board: Board) -> None:
    fx = board.fx
    auditor = await signed_in(fx, "pb-auditor")
    home = await auditor.get("/console/audit/")
    assert home.status_code == 200, home.text
    size = int((await fx.client.http.get("/v1/checkpoint")).text.splitlines()[1])
    assert f'href="/checkpoint?size={size}"' in home.text
    for link in ("/v1/export", "/verify", "/board", "/v1/state-digest"):
        assert f'href="{link}"' in home.text, link
    assert 'rel="next"' in home.text  # more than a page of checkpoints
    older = await auditor.get(f"/console/audit/?before={size - 20}")
    rows = older.text[older.text.index("全部检查点") :]
    assert f'href="/checkpoint?size={size - 21}"' in rows and f'href="/checkpoint?size={size}"' not in rows
    bad = await auditor.get("/console/audit/?before=" + "9" * 40)
    assert bad.status_code == 400
    digest = await auditor.get("/console/audit/digest")
    assert digest.status_code == 200, digest.text
    api = (await fx.client.http.get("/v1/state-digest")).json()
    assert api["digest"] in digest.text and "exchange_listings" in digest.text
    for page in (home, digest):
        no_personal_data(page.text)
        assert page.text.count("<form") == 1 and 'action="/console/logout"' in page.text  # nothing acts
        assert page.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert len(page.content) < LIMIT_BYTES
    english = await auditor.get("/console/audit/?lang=en")
    assert "Every checkpoint, newest first" in english.text


async def test_the_auditor_s_desk_is_for_auditors_only(board: Board) -> None:
    visitor = anonymous(board)
    for path in ("/console/audit/", "/console/audit/digest"):
        r = await visitor.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login"), path
    for username in ("pb-staff", "pb-clerk"):
        other = await signed_in(board.fx, username)
        for path in ("/console/audit/", "/console/audit/digest"):
            assert (await other.get(path)).status_code == 403, (username, path)


async def test_the_home_page_links_the_board_and_the_checkpoint(board: Board) -> None:
    r = await cast(Any, board.fx.client.http).get("/")
    assert r.status_code == 200
    assert "href='/board'" in r.text and "href='/checkpoint'" in r.text


async def test_a_long_history_lists_its_latest_steps_only(board: Board, monkeypatch: Any) -> None:
    """A listing's page stays light however many bids it had: the latest steps, and all in JSON."""
    monkeypatch.setattr("api.console.public_board.STEPS_SHOWN", 3)
    r = await anonymous(board).get(f"/board/{SOLD}?lang=zh")
    assert r.status_code == 200
    steps = r.text[r.text.index("全部经过") :]
    assert "这里列出最近的 3 项" in steps and steps.count('href="/verify/') == 3
    assert f'href="/v1/exchange/listings/{SOLD}"' in steps


async def test_a_cosignature_held_for_the_wrong_checkpoint_shows_as_invalid(board: Board) -> None:
    """The page checks each held cosignature again: one of another checkpoint (put in the table
    behind the API's back) is said to be invalid, never valid."""
    fx, db = board.fx, board.m.db
    assert db is not None
    signer = CosignerSigner.from_string(generate_cosigner("w9.example/witness")[0])
    other = (await fx.client.http.get("/v1/checkpoint?size=3")).text
    made = signer.cosign(parse_note(other).body, 1_770_000_000)
    await db.execute(
        "INSERT INTO witness_cosignatures (size, witness_key, name, key_hash, timestamp, signature, line,"
        " created_at) VALUES (2, $1, $2, $3, $4, $5, $6, now())",
        made.witness,
        signer.name,
        signer.verifier().key_hash,
        made.timestamp,
        made.signature,
        made.line(),
    )
    r = await anonymous(board).get("/checkpoint?size=2&lang=zh")
    assert r.status_code == 200, r.text
    assert "w9.example/witness" in r.text and "签名无效" in r.text and "签名有效" not in r.text
    assert "非本服务配置的见证方" in r.text
