"""Certificate verification in a real browser: headless Chromium (Debian's, driven by Playwright)
opens a printed certificate, follows its QR code's link to the record's verification page, and
the page's own script, with WebCrypto, says 验证通过; the record changed in the page's box says
验证失败 and why; a record and a certificate's JSON pasted into /verify verify too. The
browser's requests are answered by the real app in this process, at a localhost origin (a
secure context, where WebCrypto is available); any request elsewhere fails the test.

Skipped, saying why, only where Chromium cannot be there: off CI, without /usr/bin/chromium or
the ``playwright`` package. On CI (``CI`` set) their absence fails the test instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest_asyncio

from tests.browser.chromium import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    Browser,
    Page,
    Route,
    async_playwright,
    require_chromium,
)
from tests.printed_support import LargeHousehold, build_large_household
from tests.support import LedgerFixture

BASE = "http://localhost:8765"  # never listened on: every request is answered by the app here
WAIT_MS = 10_000

require_chromium("the verification page test")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def household(ledger: LedgerFixture) -> LargeHousehold:
    return await build_large_household(ledger)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    assert async_playwright is not None
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=WAIT_MS)
        try:
            yield b
        finally:
            await b.close()


@dataclass
class Visit:
    page: Page
    requests: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def open_page(browser: Browser, ledger: LedgerFixture, path: str) -> Visit:
    page = await browser.new_page()
    page.set_default_timeout(WAIT_MS)
    visit = Visit(page)

    async def answer(route: Route) -> None:
        url = route.request.url
        visit.requests.append(url)
        if not url.startswith(BASE + "/"):
            visit.elsewhere.append(url)
            await route.abort("blockedbyclient")
            return
        # The browser's own cookies only: the test client's jar would carry one page's choices
        # (a language cookie) into every other page.
        ledger.client.http.cookies.clear()
        cookie = await route.request.header_value("cookie")
        r = await ledger.client.http.get(
            url[len(BASE) :], follow_redirects=False, headers={"cookie": cookie} if cookie else {}
        )
        ledger.client.http.cookies.clear()
        await route.fulfill(status=r.status_code, headers=dict(r.headers), body=r.content)

    page.on("pageerror", lambda e: visit.errors.append(f"script error: {e}"))
    await page.route("**/*", answer)
    response = await page.goto(BASE + path)
    assert response is not None and response.status == 200, path
    return visit


async def verdict(page: Page, expected: str) -> str:
    await page.locator(f"html[data-verdict={expected}]").wait_for()
    return await page.locator("#verdict").inner_text()


async def leave(visit: Visit, name: str) -> None:
    if SCREENSHOTS:
        folder = Path(SCREENSHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        await visit.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    await visit.page.close()
    assert not visit.elsewhere, visit.elsewhere
    assert not visit.errors, visit.errors


async def test_a_certificates_qr_link_verifies_and_a_tampered_record_fails(
    browser: Browser, ledger: LedgerFixture, household: LargeHousehold
) -> None:
    printed = await open_page(
        browser, ledger, f"/v1/certificates/{household.certificates['transfer_filing']}/print"
    )
    link = await printed.page.locator(".qr .mono").inner_text()
    assert await printed.page.locator(".qr svg").count() == 1
    await leave(printed, "verify-certificate-printed")
    path = re.sub(r"^https?://[^/]+", "", link)
    assert path == f"/verify/{household.seqs['transfer_filing']}"

    visit = await open_page(browser, ledger, path)
    said = await verdict(visit.page, "verified")
    assert said.startswith("验证通过")
    steps = await visit.page.locator("#steps li.ok").count()
    assert steps == 5 and await visit.page.locator("#steps li.bad").count() == 0
    await leave(visit, "verify-record-verified")

    visit = await open_page(browser, ledger, path)
    await verdict(visit.page, "verified")
    box = visit.page.locator("#record")
    text = await box.input_value()
    record = json.loads(text)
    record["entry"]["payload"]["scope"] = (
        "individual" if record["entry"]["payload"].get("scope") != "individual" else "household"
    )
    await box.fill(json.dumps(record, ensure_ascii=False, indent=2))
    await visit.page.locator("#check").click()
    said = await verdict(visit.page, "failed")
    assert said.startswith("验证失败")
    failed = await visit.page.locator("#steps li.bad").all_inner_texts()
    assert len(failed) == 1 and "根哈希与检查点不一致" in failed[0], failed
    await leave(visit, "verify-record-tampered")


async def test_the_english_switch_and_a_pasted_record_or_certificate(
    browser: Browser, ledger: LedgerFixture, household: LargeHousehold
) -> None:
    seq = household.seqs["membership"]
    visit = await open_page(browser, ledger, f"/verify/{seq}?lang=en")
    assert (await verdict(visit.page, "verified")).startswith("Verified")
    await leave(visit, "verify-record-english")

    # A record with Chinese in it (an organisation's registered name): the same bytes as the
    # ledger's RFC 8785 encoding, so the same leaf hash.
    first = (await ledger.client.http.get("/v1/entries", params={"limit": 50})).json()["items"]
    chinese = next(r for r in first if any(ord(c) > 0x2E80 for c in json.dumps(r, ensure_ascii=False)))
    visit = await open_page(browser, ledger, f"/verify/{chinese['seq']}")
    assert (await verdict(visit.page, "verified")).startswith("验证通过")
    await leave(visit, "verify-record-chinese")

    record = (await ledger.client.http.get(f"/v1/entries/{seq}")).json()
    certificate = (
        await ledger.client.http.get(f"/v1/certificates/{household.certificates['shares']}")
    ).json()
    for name, pasted in (("record", record), ("certificate", certificate)):
        visit = await open_page(browser, ledger, "/verify?lang=zh")
        await visit.page.locator("#record").fill(json.dumps(pasted, ensure_ascii=False))
        await visit.page.locator("#check").click()
        assert (await verdict(visit.page, "verified")).startswith("验证通过"), name
        if name == "record":  # the proof is fetched from the service for the page's checkpoint
            assert any("/v1/proofs/inclusion?seq=" in url for url in visit.requests)
        await leave(visit, f"verify-pasted-{name}")

    # A certificate whose checkpoint was altered: its signature no longer holds.
    forged = json.loads(json.dumps(certificate))
    note = forged["checkpoint"]["note"].split("\n")
    note[1] = str(int(note[1]) + 1)
    forged["checkpoint"]["note"] = "\n".join(note)
    visit = await open_page(browser, ledger, "/verify")
    await visit.page.locator("#record").fill(json.dumps(forged))
    await visit.page.locator("#check").click()
    assert (await verdict(visit.page, "failed")).startswith("验证失败")
    failed = await visit.page.locator("#steps li.bad").all_inner_texts()
    assert any("检查点签名无效" in step for step in failed), failed
    await leave(visit, "verify-pasted-forged-checkpoint")

    visit = await open_page(browser, ledger, "/verify")
    await visit.page.locator("#record").fill("{not json")
    await visit.page.locator("#check").click()
    assert (await verdict(visit.page, "failed")).startswith("验证失败")
    assert "不是有效的 JSON" in await visit.page.locator("#steps").inner_text()
    await leave(visit, "verify-pasted-garbage")
