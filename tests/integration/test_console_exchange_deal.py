"""The exchange centre's live bidding page and deal page through real HTTP against real
PostgreSQL: bids and a priority holder's match recorded on bidders' behalf (each entry naming the
staff user), the bidding state fragment, sealed quotes sealed and opened, the award, the
failure, the contract, the payment, the deposit refunds and the transaction certificate with its
printed page; each act refused at the wrong stage beside its field with what was typed kept; a
double submit recorded once; hostile inputs, another centre's listing, other roles, anonymous
visitors and a missing CSRF token refused with nothing recorded; every page under 100 KB.

The listings are made through the API (``tests.exchange_http``); the ledger's clock is moved,
never slept on, and the tests run in file order over one module's ledger."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from api.console.accounts import add_user
from api.service.database import asyncpg_url, make_engine
from tests.console_support import CSRF, ENTRY_ID, assert_light, signed_in
from tests.exchange_http import Market
from tests.integration.test_console_accounts import PASSWORD, Browser
from tests.integration.test_console_township import hold_keys
from tests.registry_support import hexdigest
from tests.support import LedgerFixture

SEQ = re.compile(r"recorded=(\d+)$")


@dataclass
class Desk:
    """An exchange centre's listings, made through the API: a lease with an entity bidder and a
    member (priority holder) under in-auction matching (``lease``), one taking sealed quotes
    (``sealed``), one nobody bids on (``empty``), one under tie priority (``tie``), one with a
    sole bidder (``sole``); another centre with a listing of its own."""

    m: Market
    other: Market
    users: dict[str, str]  # username -> the console user's pseudonymous id
    lease: str = "L-dx-lease"
    sealed: str = "L-dx-sealed"
    empty: str = "L-dx-empty"
    tie: str = "L-dx-tie"  # listed under tie priority: a member bids the equal amount instead
    sole: str = "L-dx-sole"  # sealed, but only one bidder paid: one open quote by agreement
    far: str = "L-dx2-far"

    def path(self, listing: str, *rest: str) -> str:
        return "/".join((f"/console/exchange/listings/{listing}", *rest))


async def add_staff(fx: LedgerFixture, users: list[tuple[str, str, str]]) -> dict[str, str]:
    engine = make_engine(asyncpg_url(fx.url), service_role=False, pool_size=1)
    try:
        async with engine.connect() as conn:
            made = {u: await add_user(conn, org, role, u, PASSWORD, fx.clock()) for org, role, u in users}
    finally:
        await engine.dispose()
    return {u: user.id for u, user in made.items()}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def desk(ledger: LedgerFixture) -> Any:
    await ledger.origin_ready()
    m = await Market.open(ledger, "dx", parcels=6, buyers=2, full=False)
    other = await Market.open(ledger, "dx2", parcels=1, buyers=1, full=False)
    await m.set_policy(priority_model="in_auction_match")
    d = Desk(m, other, {})
    await m.lot(d.lease, m.land_right(m.take_parcels(2)))
    await m.register_entity(d.lease)  # 竞买人 1: an outside cooperative
    await m.register(d.lease, m.buyers[0])  # 竞买人 2: a member of the village, a priority holder
    await m.lot(d.sealed, method="sealed")
    await m.register_entity(d.sealed)
    await m.register_entity(d.sealed)
    await m.lot(d.empty)
    await m.register_entity(d.empty)
    await m.register_entity(d.empty)
    await m.set_policy(priority_model="tie")  # a listing keeps the model it was listed under
    await m.lot(d.tie)
    await m.register_entity(d.tie)
    await m.register(d.tie, m.buyers[1])
    await m.lot(d.sole, method="sealed")
    await m.register_entity(d.sole)
    await m.register_entity(d.sole, deposit=False)  # registered, but only one paid: by agreement
    await other.lot(d.far, other.land_right(other.take_parcels(1)))
    await hold_keys(ledger, m.exchange, other.exchange)
    d.users = await add_staff(
        ledger,
        [
            (m.exchange, "exchange_staff", "dx-staff"),
            (other.exchange, "exchange_staff", "dx2-staff"),
            (m.v.village, "collective_clerk", "dx-clerk"),
        ],
    )
    yield d
    await m.close()
    await other.close()


def form_of(page: Any, anchor: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``anchor``; when the page offers none (the act
    is not of the listing's stage), the session's token and a new entry id."""
    at = page.text.find(f'action="{anchor}"')
    if at == -1:
        return {"csrf": CSRF.findall(page.text)[0], "entry_id": str(uuid.uuid4())}
    text = page.text[at : page.text.index("</form>", at)]
    return {"csrf": CSRF.findall(text)[0], "entry_id": ENTRY_ID.findall(text)[0]}


def field_html(page: Any, name: str) -> str:
    """The field ``name``'s block (``bid.amount_yuan``): its input and any refusal beside it."""
    html_id = "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)
    text = page.text
    start = text.index(f'id="{html_id}"')
    begin = text.rindex('<div class="field', 0, start)
    ends = [i for i in (text.find('<div class="field', start), text.find("</form>", start)) if i != -1]
    return str(text[begin : min(ends)])


async def act(
    b: Browser, d: Desk, listing: str, where: str, act_name: str, fields: dict[str, str]
) -> tuple[Any, Any]:
    """Open ``where`` (bidding or deal), post its ``act_name`` form with ``fields`` (named
    without the act: ``bidder``, ``amount_yuan``); both answers."""
    page = await b.get(d.path(listing, where))
    assert page.status_code == 200, page.text
    action = d.path(listing, where, act_name)
    named = {f"{act_name}.{k}": v for k, v in fields.items()}
    r = await b.post(action, {**form_of(page, action), **named})
    return page, r


async def recorded(fx: LedgerFixture, r: Any) -> dict[str, Any]:
    """The entry an act's 303 answer names."""
    assert r.status_code == 303, r.text
    seq = int(SEQ.search(r.headers["location"]).group(1))  # type: ignore[union-attr]
    return await fx.client.get(f"/v1/entries/{seq}")  # type: ignore[no-any-return]


async def test_other_centres_other_roles_and_anonymous_visitors_are_refused(
    ledger: LedgerFixture, desk: Desk
) -> None:
    d = desk
    paths = [d.path(d.lease, "bidding"), d.path(d.lease, "bidding", "state"), d.path(d.lease, "deal")]
    paths.append(d.path(d.lease, "certificate"))
    anonymous = Browser(ledger)
    for path in paths:
        r = await anonymous.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login"), path
    clerk = await signed_in(ledger, "dx-clerk")
    other = await signed_in(ledger, "dx2-staff")
    for path in paths:
        assert (await clerk.get(path)).status_code == 403, path
        refused = await other.get(path)
        assert refused.status_code == 403 and d.m.buyers[0] not in refused.text, path
    staff = await signed_in(ledger, "dx-staff")
    assert (await staff.get(d.path(d.far, "bidding"))).status_code == 403
    assert (await staff.get(d.path("L-no-such", "deal"))).status_code == 404
    size = await ledger.size()
    token = CSRF.findall((await other.get(d.path(d.far, "bidding"))).text)[0]
    posted = await other.post(
        d.path(d.lease, "bidding", "bid"),
        {"csrf": token, "entry_id": str(uuid.uuid4()), "bid.bidder": "1", "bid.amount_yuan": "900"},
    )
    assert posted.status_code == 403
    no_csrf = await staff.post(
        d.path(d.lease, "bidding", "bid"),
        {"entry_id": str(uuid.uuid4()), "bid.bidder": "1", "bid.amount_yuan": "900"},
    )
    assert no_csrf.status_code == 403 and "console.csrf_failed" in no_csrf.text
    assert await ledger.size() == size


async def test_before_the_opening_no_bid_is_offered_and_one_posted_is_refused(
    ledger: LedgerFixture, desk: Desk
) -> None:
    b = await signed_in(ledger, "dx-staff")
    page = await b.get(desk.path(desk.lease, "bidding"))
    assert page.status_code == 200, page.text
    assert (
        "公告期" in page.text
        and 'id="no-act"' in page.text
        and 'action="' not in page.text.split("<main>")[1]
    )
    assert "竞买人 1" in page.text and desk.m.buyers[0] in page.text  # a party by its id
    size = await ledger.size()
    token = CSRF.findall(page.text)[0]
    r = await b.post(
        desk.path(desk.lease, "bidding", "bid"),
        {"csrf": token, "entry_id": str(uuid.uuid4()), "bid.bidder": "1", "bid.amount_yuan": "900"},
    )
    assert r.status_code == 422 and "exchange.bidding_not_open" in r.text and "竞价还没有开始" in r.text
    assert 'value="900"' in r.text
    assert await ledger.size() == size


async def test_bids_and_a_priority_match_are_recorded_naming_the_user(
    ledger: LedgerFixture, desk: Desk
) -> None:
    d, m = desk, desk.m
    m.open_bidding(d.lease, minutes=1)
    b = await signed_in(ledger, "dx-staff")
    page, r = await act(b, d, d.lease, "bidding", "bid", {"bidder": "1", "amount_yuan": "900"})
    assert "竞价进行中" in page.text and 'id="time-left"' in page.text and "exchange_bidding.js" in page.text
    entry = (await recorded(ledger, r))["entry"]
    assert (entry["kind"], entry["actor"], entry["user"]) == ("exchange.bid", m.exchange, d.users["dx-staff"])
    assert entry["payload"] == {"listing": d.lease, "bidder": 1, "amount_fen": 90_000}
    shown = await b.get(r.headers["location"])
    assert 'id="recorded"' in shown.text and "出价" in shown.text
    assert 'id="match"' in shown.text  # the member may match within the response window
    state = await b.get(d.path(d.lease, "bidding", "state"))
    assert (
        state.status_code == 200
        and "<html" not in state.text
        and state.headers["cache-control"] == "no-store"
    )
    assert "竞买人 1" in state.text and "900.00" in state.text and "1,000.00" in state.text  # least next bid
    page, r = await act(b, d, d.lease, "bidding", "match", {"bidder": "2", "amount_yuan": "900.00"})
    entry = (await recorded(ledger, r))["entry"]
    assert (entry["kind"], entry["user"], entry["payload"]["bidder"]) == (
        "exchange.priority_matched",
        d.users["dx-staff"],
        2,
    )
    row = await m.listing_row(d.lease)
    assert (row["high_bidder"], row["high_fen"], row["high_priority"]) == (2, 90_000, True)
    state = await b.get(d.path(d.lease, "bidding", "state"))
    assert state.headers["x-bidding-version"] != "" and "行使优先权跟价" in state.text
    watch = await b.get(d.path(d.lease, "bidding") + "?watch=1")  # the wall screen, no script
    assert (
        '<meta http-equiv="refresh" content="30">' in watch.text and "exchange_bidding.js" not in watch.text
    )
    assert 'action="/console/exchange/listings/' not in watch.text and "行使优先权跟价" in watch.text
    english = await b.get(d.path(d.lease, "bidding") + "?lang=en")
    assert "Live bidding" in english.text and "Record the bid" in english.text
    deal = await b.get(d.path(d.lease, "deal") + "?lang=zh")  # no award while bidding is open
    assert 'id="award"' not in deal.text and 'id="fail"' not in deal.text and "竞价进行中" in deal.text


async def test_a_bid_refused_is_shown_beside_its_field_with_what_was_typed(
    ledger: LedgerFixture, desk: Desk
) -> None:
    d = desk
    b = await signed_in(ledger, "dx-staff")
    size = await ledger.size()
    for typed, code, phrase in (
        ("900", "exchange.bid_below_increment", "加价幅度"),
        ("50", "exchange.bid_below_reserve", "底价"),
        ("9" * 30, "form.not_an_amount", "请填写金额"),
        ("90\x000", "form.not_an_amount", "请填写金额"),
        ("1" * 5000, "form.not_an_amount", "请填写金额"),
    ):
        _, r = await act(b, d, d.lease, "bidding", "bid", {"bidder": "1", "amount_yuan": typed})
        assert r.status_code == 422, (typed[:20], r.text[:300])
        field = field_html(r, "bid.amount_yuan")
        assert code in field and phrase in field and 'aria-invalid="true"' in field, (typed[:20], field)
        assert f'value="{typed[:2000]}"' in field or "\x00" in typed
    for bidder, code in (
        ("99999999999999999999", "form.not_a_number"),
        ("x", "form.not_a_number"),
        ("²", "form.not_a_number"),
        ("7", "exchange.unknown_bidder"),
    ):
        _, r = await act(b, d, d.lease, "bidding", "bid", {"bidder": bidder, "amount_yuan": "2000"})
        assert r.status_code == 422 and code in field_html(r, "bid.bidder"), bidder
    _, r = await act(b, d, d.lease, "bidding", "match", {"bidder": "1", "amount_yuan": "900"})
    assert r.status_code == 422 and "exchange.no_priority" in field_html(r, "match.bidder")
    odd = await b.get(d.path(d.lease, "bidding") + "?recorded=%C2%B2")  # a digit int() cannot read
    assert odd.status_code == 200 and 'id="recorded"' not in odd.text
    r = await b.post(d.path(d.lease, "bidding", "nonsense"), {"csrf": CSRF.findall(r.text)[0]})
    assert r.status_code == 404
    assert await ledger.size() == size


async def test_a_double_submit_records_once_and_a_replayed_entry_id_is_refused(
    ledger: LedgerFixture, desk: Desk
) -> None:
    d = desk
    b = await signed_in(ledger, "dx-staff")
    page = await b.get(d.path(d.lease, "bidding"))
    action = d.path(d.lease, "bidding", "bid")
    data = {**form_of(page, action), "bid.bidder": "1", "bid.amount_yuan": "1000"}
    size = await ledger.size()
    first = await b.post(action, data)
    ledger.clock.advance(seconds=2)  # type: ignore[attr-defined]
    second = await b.post(action, data)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await ledger.size() == size + 1
    replay = await b.post(action, {**data, "bid.amount_yuan": "1200"})  # another act, the same entry id
    assert replay.status_code == 422 and "console.form_stale" in replay.text
    assert 'value="1200"' in replay.text
    assert await ledger.size() == size + 1


async def test_under_tie_priority_a_member_bids_the_equal_amount_and_no_match_is_offered(
    ledger: LedgerFixture, desk: Desk
) -> None:
    d, m = desk, desk.m
    b = await signed_in(ledger, "dx-staff")
    page, r = await act(b, d, d.tie, "bidding", "bid", {"bidder": "1", "amount_yuan": "900"})
    assert 'id="match"' not in page.text and "优先权人可报与最高价相同的金额" in page.text
    await recorded(ledger, r)
    _, r = await act(b, d, d.tie, "bidding", "bid", {"bidder": "2", "amount_yuan": "900"})
    entry = (await recorded(ledger, r))["entry"]
    assert (entry["kind"], entry["payload"]["bidder"], entry["payload"]["amount_fen"]) == (
        "exchange.bid",
        2,
        90_000,
    )
    row = await m.listing_row(d.tie)
    assert (row["high_bidder"], row["high_priority"]) == (2, True)
    _, r = await act(b, d, d.tie, "bidding", "match", {"bidder": "2", "amount_yuan": "900"})
    assert r.status_code == 422 and "exchange.priority_model_other" in r.text and 'id="match"' in r.text


async def test_a_sole_bidder_quotes_once_openly_on_a_sealed_listing(
    ledger: LedgerFixture, desk: Desk
) -> None:
    d = desk
    b = await signed_in(ledger, "dx-staff")
    page, r = await act(b, d, d.sole, "bidding", "bid", {"bidder": "1", "amount_yuan": "850"})
    assert 'id="seal"' not in page.text and "协议成交" in page.text
    assert '<option value="2"' not in page.text  # 竞买人 2 paid no deposit: not offered
    await recorded(ledger, r)
    _, r = await act(b, d, d.sole, "bidding", "bid", {"bidder": "1", "amount_yuan": "950"})
    assert r.status_code == 422 and "exchange.single_quote_only" in field_html(r, "bid.bidder")
    _, r = await act(b, d, d.sole, "bidding", "bid", {"bidder": "2", "amount_yuan": "950"})
    assert r.status_code == 422 and "exchange.no_deposit" in field_html(r, "bid.bidder")


async def test_sealed_quotes_are_sealed_without_their_amount_and_opened_after_the_close(
    ledger: LedgerFixture, desk: Desk
) -> None:
    d, m = desk, desk.m
    b = await signed_in(ledger, "dx-staff")
    page = await b.get(d.path(d.sealed, "bidding"))
    assert 'id="seal"' in page.text and 'id="bid"' not in page.text
    salt = re.search(r'id="f-seal-salt" name="seal.salt" value="([0-9a-f]{32})"', page.text)
    assert salt is not None
    salts = {}
    for number, amount in ((1, "1500"), (2, "1700.5")):
        _, r = await act(
            b,
            d,
            d.sealed,
            "bidding",
            "seal",
            {
                "bidder": str(number),
                "amount_yuan": amount,
                "salt": "cd" * 16 if number == 2 else salt.group(1),
            },
        )
        assert r.status_code == 200 and 'id="sealed-salt"' in r.text, r.text
        salts[number] = re.search(r'id="sealed-salt">([0-9a-f]+)<', r.text).group(1)  # type: ignore[union-attr]
        entry = (await ledger.client.get(f"/v1/entries/{await ledger.size() - 1}"))["entry"]
        assert entry["kind"] == "exchange.quote_sealed" and "amount_fen" not in entry["payload"]
    _, r = await act(b, d, d.sealed, "bidding", "seal", {"bidder": "1", "amount_yuan": "1", "salt": "zz"})
    assert r.status_code == 422 and "exchange_deal.bad_salt" in field_html(r, "seal.salt")
    state = await b.get(d.path(d.sealed, "bidding", "state"))
    assert "密封报价，开标前不显示金额" in state.text and "1,500.00" not in state.text
    await m.after_close(d.sealed, minutes=5)
    b = await signed_in(ledger, "dx-staff")  # the clock moved past the session's idle time
    _, r = await act(
        b, d, d.sealed, "bidding", "open", {"bidder": "1", "amount_yuan": "1600", "salt": salts[1]}
    )
    assert r.status_code == 422 and "exchange.commitment_mismatch" in field_html(r, "open.salt")
    for number, amount in ((1, "1500"), (2, "1700.50")):
        _, r = await act(
            b,
            d,
            d.sealed,
            "bidding",
            "open",
            {"bidder": str(number), "amount_yuan": amount, "salt": salts[number]},
        )
        assert (await recorded(ledger, r))["entry"]["kind"] == "exchange.quote_opened"
    deal = await b.get(d.path(d.sealed, "deal"))
    assert 'id="award"' in deal.text and '<option value="2" selected' in deal.text
    assert 'value="1,700.50"' in deal.text
    _, r = await act(b, d, d.sealed, "deal", "award", {"bidder": "2", "amount_yuan": "1,700.50"})
    assert (await recorded(ledger, r))["entry"]["payload"]["amount_fen"] == 170_050


async def test_the_award_and_the_failure_are_offered_once_bidding_is_over(
    ledger: LedgerFixture, desk: Desk
) -> None:
    d, m = desk, desk.m
    await m.after_close(d.lease)
    b = await signed_in(ledger, "dx-staff")
    size = await ledger.size()
    _, r = await act(b, d, d.lease, "deal", "award", {"bidder": "2", "amount_yuan": "1000"})
    assert r.status_code == 422 and "exchange.wrong_winner" in field_html(r, "award.bidder")
    assert '<option value="2" selected' in r.text  # what was chosen is kept
    _, r = await act(b, d, d.lease, "deal", "award", {"bidder": "1", "amount_yuan": "1100"})
    assert r.status_code == 422 and "exchange.wrong_price" in field_html(r, "award.amount_yuan")
    _, r = await act(b, d, d.lease, "deal", "fail", {})
    assert r.status_code == 422 and "exchange.has_valid_bid" in r.text
    assert await ledger.size() == size
    page = await b.get(d.path(d.lease, "deal"))
    assert '<option value="1" selected' in page.text  # 竞买人 1 bid 1,000 after the match
    _, r = await act(b, d, d.lease, "deal", "award", {"bidder": "1", "amount_yuan": "1,000.00"})
    entry = (await recorded(ledger, r))["entry"]
    assert (entry["kind"], entry["payload"]["bidder"], entry["user"]) == (
        "exchange.awarded",
        1,
        d.users["dx-staff"],
    )
    _, r = await act(b, d, d.empty, "deal", "fail", {})
    assert (await recorded(ledger, r))["entry"]["kind"] == "exchange.failed"
    page = await b.get(d.path(d.empty, "deal"))
    assert 'id="refund"' in page.text and 'id="award"' not in page.text


async def test_contract_payment_refunds_and_certificate_each_at_its_stage(
    ledger: LedgerFixture, desk: Desk
) -> None:
    d, m = desk, desk.m
    b = await signed_in(ledger, "dx-staff")
    page = await b.get(d.path(d.lease, "deal"))
    assert 'id="contract"' in page.text and 'id="payment"' not in page.text and 'id="refund"' in page.text
    size = await ledger.size()
    _, r = await act(b, d, d.lease, "deal", "certificate", {"certificate_no": "JY-dx-1"})
    assert r.status_code == 422 and "exchange.wrong_stage" in r.text and 'value="JY-dx-1"' in r.text
    _, r = await act(b, d, d.lease, "bidding", "bid", {"bidder": "2", "amount_yuan": "5000"})
    assert r.status_code == 422 and "exchange.listing_not_open" in r.text
    _, r = await act(b, d, d.lease, "deal", "contract", {"contract": "not a hash\x00"})
    assert r.status_code == 422 and "payload.invalid" in field_html(r, "contract.contract")
    assert await ledger.size() == size
    _, r = await act(b, d, d.lease, "deal", "contract", {"contract": hexdigest("contract dx")})
    assert (await recorded(ledger, r))["entry"]["kind"] == "exchange.contract_signed"
    page = await b.get(d.path(d.lease, "deal"))
    due = await m.payment_due(d.lease)
    assert f'value="{due // 100:,}.{due % 100:02d}"' in page.text and 'id="due"' in page.text
    assert 'id="default"' not in page.text  # non-payment is shown only once the payment is overdue
    _, r = await act(b, d, d.lease, "deal", "payment", {"amount_yuan": "1", "bank_reference": "ICBC-2026-1"})
    assert r.status_code == 422 and "exchange.wrong_payment" in field_html(r, "payment.amount_yuan")
    _, r = await act(
        b, d, d.lease, "deal", "payment", {"amount_yuan": str(due / 100), "bank_reference": "x" * 500}
    )
    assert r.status_code == 422 and "exchange_deal.bad_reference" in field_html(r, "payment.bank_reference")
    _, r = await act(
        b, d, d.lease, "deal", "payment", {"amount_yuan": f"{due / 100:.2f}", "bank_reference": "ICBC-2026-1"}
    )
    assert (await recorded(ledger, r))["entry"]["kind"] == "exchange.payment_confirmed"
    _, r = await act(b, d, d.lease, "deal", "refund", {"bidder": "1", "bank_reference": "R-1"})
    assert r.status_code == 422 and "exchange.not_refundable" in r.text and "已抵作价款" in r.text
    _, r = await act(b, d, d.lease, "deal", "refund", {"bidder": "2", "bank_reference": "R-2"})
    assert (await recorded(ledger, r))["entry"]["payload"]["bidder"] == 2
    _, r = await act(b, d, d.lease, "deal", "refund", {"bidder": "2", "bank_reference": "R-2"})
    assert r.status_code == 422 and "exchange.already_refunded" in r.text
    _, r = await act(b, d, d.lease, "deal", "certificate", {"certificate_no": "JY-dx-2026-0001"})
    entry = (await recorded(ledger, r))["entry"]
    assert entry["kind"] == "exchange.certificate_issued"
    page = await b.get(d.path(d.lease, "deal"))
    assert 'id="moved"' in page.text and "文登" in page.text  # the cooperative holds the lease now
    assert 'id="printed"' in page.text and 'id="contract"' not in page.text
    printed = await b.get(d.path(d.lease, "certificate"))
    assert printed.status_code == 200 and "交易鉴证书" in printed.text and "JY-dx-2026-0001" in printed.text
    assert "<svg" in printed.text and f"/verify/{(await ledger.size()) - 1}" in printed.text
    assert (await b.get(d.path(d.empty, "certificate"))).status_code == 404


async def test_a_winner_refusing_the_confirmation_defaults_and_its_deposit_is_forfeited(
    ledger: LedgerFixture, desk: Desk
) -> None:
    d, m = desk, desk.m
    b = await signed_in(ledger, "dx-staff")
    page = await b.get(d.path(d.sealed, "deal"))
    assert 'id="default"' in page.text and 'id="contract"' in page.text
    size = await ledger.size()
    document = hexdigest("the winner's refusal")
    for reason, code in (("non_payment", "exchange.default_not_shown"), ("bogus\x00", "payload.invalid")):
        _, r = await act(
            b, d, d.sealed, "deal", "default", {"bidder": "2", "reason": reason, "document": document}
        )
        assert r.status_code == 422 and code in field_html(r, "default.reason"), reason
    _, r = await act(
        b, d, d.sealed, "deal", "default", {"bidder": "2", "reason": "refused_confirmation", "document": "短"}
    )
    assert r.status_code == 422 and "payload.invalid" in field_html(r, "default.document")
    assert 'value="短"' in field_html(r, "default.document")
    assert await ledger.size() == size
    _, r = await act(
        b,
        d,
        d.sealed,
        "deal",
        "default",
        {"bidder": "2", "reason": "refused_confirmation", "document": document},
    )
    assert (await recorded(ledger, r))["entry"]["kind"] == "exchange.defaulted"
    row = await m.listing_row(d.sealed)
    assert row["status"] == "failed" and (await m.bidder_row(d.sealed, 2))["deposit"] == "forfeited"
    page = await b.get(d.path(d.sealed, "deal"))
    assert "已没收" in page.text and "拒绝确认成交" in page.text and 'id="refund"' in page.text
    assert '<option value="1"' in field_html(page, "refund.bidder")
    english = await b.get(d.path(d.sealed, "deal") + "?lang=en")
    assert "Award and settlement" in english.text and "forfeited" in english.text


@pytest.mark.parametrize("where", ["bidding", "bidding/state", "deal", "certificate", "empty-deal"])
async def test_the_pages_are_light_and_load_nothing_from_elsewhere(
    ledger: LedgerFixture, desk: Desk, where: str
) -> None:
    path = desk.path(desk.empty, "deal") if where == "empty-deal" else desk.path(desk.lease, where)
    b = await signed_in(ledger, "dx-staff")
    await assert_light(ledger, b, path)
    english = await b.get(path + "?lang=en")
    assert english.status_code == 200
