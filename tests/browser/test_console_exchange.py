"""The exchange centre's main path in a real browser: headless Chromium (Debian's, driven by
Playwright) signs in as the centre's staff and lists a lease (management-right transfer) of a
household's contracted land through the wizard (holder, the rights the ledger says it holds,
the priority holders, the terms, the summary, the signature); registers two bidders, an outside
cooperative and a member of the village (a priority holder), and receives their deposits; the
two bid on the live bidding page, which shows another desk's bid without a reload; the member
exercises priority by matching the high bid; the listing is awarded to the member, the
contract signed, the payment confirmed, the loser's deposit refunded and the transaction
certificate issued; the printed certificate (with its verification QR code) and the seller
household's printed rights show the lease moved to the member.

Every request the browser makes is answered by the real app in this process; each page's
weight with all it loads is recorded and held under 100 KB, and a request anywhere else fails
the test. The ledger's clock is moved (never slept on) from the announcement to the bidding
and past the close; the staff signs in again after each move (the session's idle time runs by
the same clock). Screenshots and weights go to RURAL_LEDGER_SCREENSHOTS when it is set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest_asyncio

from tests.browser.chromium import Browser, require_chromium
from tests.browser.console_tab import Tab, launched, leave, open_tab, shot, sign_in
from tests.exchange_http import Market, entity
from tests.integration.test_console_township import add_users, hold_keys
from tests.registry_support import hexdigest
from tests.support import LedgerFixture

require_chromium("the exchange console test")

LISTING_TIMEOUT_MS = 10_000


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def market(ledger: LedgerFixture) -> AsyncIterator[Market]:
    """A village whose seller household holds a land contract of two parcels, two member
    households to bid, an exchange centre whose county matches priority in the auction, and
    the centre's staff user with the centre's key held."""
    await ledger.origin_ready()
    m = await Market.open(ledger, "bx", parcels=2, buyers=1, full=False)
    await m.set_policy(priority_model="in_auction_match")
    await hold_keys(ledger, m.exchange)
    await add_users(ledger, [(m.exchange, "exchange_staff", "bx-staff")])
    yield m
    await m.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with launched() as b:
        yield b


async def submit(tab: Tab, action: str) -> None:
    """Click the button of the form posting to ``action`` (several forms share a page) and
    wait for the page that says what was recorded (the act answers 303 back to its page)."""
    before = tab.page.url
    await tab.page.click(f"form[action='{action}'] button[type=submit]")
    await tab.page.wait_for_url(lambda url: url != before and "recorded=" in url)


async def test_a_lease_is_listed_bid_on_matched_by_a_member_awarded_settled_and_certified(
    browser: Browser, ledger: LedgerFixture, market: Market
) -> None:
    m = market
    member = m.buyers[0]
    coop = entity(7001, "文登绿野农业专业合作社")
    tab = await open_tab(browser, ledger)
    page = tab.page
    await sign_in(tab, "bx-staff")

    # The wizard: the holder, the right it holds, its priority holders, the terms, the summary.
    await page.goto("/console/exchange/listings/new")
    await page.fill("#f-holder-q", m.seller)
    await page.click("form.preview button[type=submit]")
    await page.click(f"a[href*='right={quote('land:' + m.contract, safe='')}']")
    assert m.v.village in await page.locator("#priority").inner_text()
    await page.fill("#f-consent", hexdigest("the household's written consent"))
    await page.select_option("#f-price_unit", "total")
    await page.fill("#f-reserve_fen", "50000")
    await page.fill("#f-increment_fen", "1000")
    await page.fill("#f-deposit_fen", "10000")
    await shot(tab, "exchange-wizard-terms")
    await page.click("form.act button[type=submit]")
    assert "50,000.00" in await page.locator("#reserve").inner_text()
    await shot(tab, "exchange-wizard-summary")
    await page.click("#sign")
    await page.wait_for_selector("#recorded")
    listing = page.url.split("/listings/")[1].split("?")[0]
    path = f"/console/exchange/listings/{listing}"
    row = await m.listing_row(listing)
    assert (row["holder"], row["right_type"], row["priority_model"]) == (
        m.seller,
        "land_management",
        "in_auction_match",
    )
    m.payloads[listing] = {"bidding_opens_at": row["opens_at"], "deposit_fen": row["deposit_fen"]}

    # Two bidders, a cooperative and a member of the village, and their deposits.
    for who in ("entity", "party"):
        await page.click("#to-register")
        await page.select_option("#f-bidder-type", who)
        if who == "entity":
            await page.fill("#f-bidder-name", coop["name"])
            await page.fill("#f-bidder-credit_code", coop["credit_code"])
            await page.select_option("#f-bidder-entity_type", "cooperative")
        else:
            await page.fill("#f-bidder-party", member)
        await page.fill("#f-application", hexdigest(f"application {who}"))
        await page.fill("#f-agricultural_capacity", hexdigest(f"capacity {who}"))
        await page.click("form.act button[type=submit]")
        await page.wait_for_selector("#recorded")
    for number in ("1", "2"):
        await page.select_option("#deposit-f-bidder", number)
        await page.fill("#deposit-f-bank_reference", hexdigest(f"deposit {number}"))
        await page.click("#deposit-form button[type=submit]")
        await page.wait_for_selector("#recorded")
    await shot(tab, "exchange-listing-bidders")
    assert [(await m.bidder_row(listing, n))["deposit"] for n in (1, 2)] == ["held", "held"]
    assert (await m.bidder_row(listing, 2))["priority"] is True

    # Bidding opens (the clock moves ten days): the two bid on the live bidding page.
    m.open_bidding(listing, minutes=1)
    await sign_in(tab, "bx-staff")
    await page.goto(path + "/bidding")
    assert "竞价进行中" in await page.locator("#phase").inner_text()
    for number, amount in (("1", "50000"), ("2", "51000"), ("1", "53000")):
        await page.select_option("#f-bid-bidder", number)
        await page.fill("#f-bid-amount_yuan", amount)
        await submit(tab, path + "/bidding/bid")
        assert f"{int(amount):,}.00" in await page.locator("#high-amount").inner_text()
    # A bid short of the increment is refused beside its field, what was typed kept.
    await page.select_option("#f-bid-bidder", "2")
    await page.fill("#f-bid-amount_yuan", "53500")
    await page.click(f"form[action='{path}/bidding/bid'] button[type=submit]")
    await page.wait_for_selector("#f-bid-amount_yuan-error")
    assert "加价幅度" in await page.locator("#f-bid-amount_yuan-error").inner_text()
    assert await page.locator("#f-bid-amount_yuan").input_value() == "53500"
    await shot(tab, "exchange-bidding-refused")
    await page.goto(path + "/bidding")
    await shot(tab, "exchange-bidding-live")
    # Another desk records the cooperative's bid: the page shows it without a reload.
    await m.bid(listing, 1, 5_500_000)
    await page.wait_for_function(
        "document.getElementById('high-amount').textContent.includes('55,000.00')", timeout=LISTING_TIMEOUT_MS
    )
    assert "55,000.00" in await page.locator("#live-status").inner_text()  # said once, for a reader
    # The member exercises priority: it matches the high bid within the response window.
    await page.click("#refresh")
    assert await page.locator("#f-match-amount_yuan").input_value() == "55,000.00"
    await page.select_option("#f-match-bidder", "2")
    await shot(tab, "exchange-bidding-match")
    await submit(tab, path + "/bidding/match")
    assert "优先权人" in await page.locator("#high-bid").inner_text()
    assert "竞买人 2" in await page.locator("#high-bid").inner_text()

    # The close passes: the award goes to the member at the matched price, and on to the certificate.
    await m.after_close(listing)
    await sign_in(tab, "bx-staff")
    await page.goto(path + "/deal")
    assert await page.locator("#f-award-bidder").input_value() == "2"
    assert await page.locator("#f-award-amount_yuan").input_value() == "55,000.00"
    await shot(tab, "exchange-deal-award")
    await submit(tab, path + "/deal/award")
    assert member in await page.locator("#winner").inner_text()
    await page.fill("#f-contract-contract", hexdigest("the lease contract"))
    await submit(tab, path + "/deal/contract")
    due = await m.payment_due(listing)
    assert await page.locator("#f-payment-amount_yuan").input_value() == f"{due // 100:,}.{due % 100:02d}"
    await page.fill("#f-payment-bank_reference", "ICBC-WD-2026-0311-0001")
    await shot(tab, "exchange-deal-payment")
    await submit(tab, path + "/deal/payment")
    await page.select_option("#f-refund-bidder", "1")
    await page.fill("#f-refund-bank_reference", "ICBC-WD-2026-0311-0002")
    await submit(tab, path + "/deal/refund")
    assert "已退还" in await page.locator("#deposits").inner_text()
    await submit(tab, path + "/deal/certificate")
    moved = await page.locator("#moved").inner_text()
    assert member in moved and "出租" in moved
    await shot(tab, "exchange-deal-certified")
    row = await m.listing_row(listing)
    assert (row["status"], row["winner"], row["price_fen"]) == ("certified", 2, 5_500_000)

    # The printed certificate, and the seller household's rights: the member holds the lease.
    await page.click("#printed")
    assert await page.locator(".qr svg").count() == 1
    printed = await page.locator("main").inner_text()
    assert "交易鉴证书" in printed and row["certificate_no"] in printed and member in printed
    await shot(tab, "exchange-certificate-printed")
    await page.goto(path + "/deal")
    await page.click("#rights")
    rights = await page.locator("main").inner_text()
    assert f"exchange:{listing}" in rights and member in rights
    await shot(tab, "exchange-rights-moved")
    await leave(tab, "exchange")
