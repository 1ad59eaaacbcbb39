"""Each printed certificate and retained-rights statement is one A4 sheet: headless Chromium
(Debian's, driven by Playwright) prints every kind of page of a large household to PDF, and the
PDF has exactly one page. The browser's requests are answered by the real app in this process.

Skipped, saying why, only where Chromium cannot be there: off CI, without /usr/bin/chromium or
the ``playwright`` package. On CI (``CI`` set) their absence fails the test instead.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.browser.chromium import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    Browser,
    Route,
    async_playwright,
    require_chromium,
)
from tests.printed_support import LargeHousehold, build_large_household
from tests.support import LedgerFixture

BASE = "http://ledger.test"

require_chromium("the print test")


def pdf_pages(pdf: bytes) -> int:
    """The number of pages of a PDF: its page objects (``/Type /Page``, not ``/Pages``),
    checked against the page tree's ``/Count``."""
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf)]
    counts += [int(n) for n in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", pdf)]
    assert counts and max(counts) == pages, (pages, counts)
    return pages


def test_pdf_pages_counts_page_objects() -> None:
    two = b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >> << /Type /Page >> <</Type/Page/Parent 2 0 R>>"
    assert pdf_pages(two) == 2


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def households(ledger: LedgerFixture) -> dict[str, LargeHousehold]:
    """The large household, and one with three times its own parcels (44 in all)."""
    return {
        "large": await build_large_household(ledger),
        "very large": await build_large_household(ledger, "print-town-2", "print-village-2", parcels=40),
    }


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    assert async_playwright is not None
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


async def printed(browser: Browser, ledger: LedgerFixture, path: str, name: str) -> bytes:
    """``path`` opened in Chromium (its requests answered by the app) and printed to A4."""

    async def answer(route: Route) -> None:
        url = route.request.url
        if not url.startswith(BASE):
            await route.abort()
            return
        r = await ledger.client.http.get(url[len(BASE) :])
        await route.fulfill(status=r.status_code, headers=dict(r.headers), body=r.content)

    context = await browser.new_context(viewport={"width": 1000, "height": 1200})
    try:
        page = await context.new_page()
        await page.route("**/*", answer)
        response = await page.goto(BASE + path)
        assert response is not None and response.status == 200, path
        if SCREENSHOTS:
            folder = Path(SCREENSHOTS)
            folder.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(folder / f"{name}-screen.png"), full_page=True)
            await page.emulate_media(media="print")
            await page.set_viewport_size({"width": 703, "height": 1047})  # A4 less its margins, 96 dpi
            await page.screenshot(path=str(folder / f"{name}-print.png"), full_page=True)
        pdf: bytes = await page.pdf(format="A4")
        if SCREENSHOTS:
            (Path(SCREENSHOTS) / f"{name}.pdf").write_bytes(pdf)
        return pdf
    finally:
        await context.close()


def pages_of(h: LargeHousehold) -> dict[str, str]:
    before_settling = h.seqs["transfer_filing"] - 1
    return {
        "share-certificate": f"/v1/certificates/{h.certificates['shares']}/print",
        "membership-certificate": f"/v1/certificates/{h.certificates['membership']}/print",
        "transfer-filing-certificate": f"/v1/certificates/{h.certificates['transfer_filing']}/print",
        "household-statement": f"/v1/households/{h.household}/rights/print",
        "party-statement": f"/v1/parties/{h.persons[0]}/rights/print",
        "party-statement-before-settling": f"/v1/parties/{h.persons[1]}/rights/print?as_of={before_settling}",
    }


@pytest.mark.parametrize("size", ["large", "very large"])
async def test_each_printed_page_is_one_a4_sheet(
    size: str, households: dict[str, LargeHousehold], browser: Browser, ledger: LedgerFixture
) -> None:
    counts: dict[str, Any] = {}
    for name, path in pages_of(households[size]).items():
        pdf = await printed(browser, ledger, path, f"{size.replace(' ', '-')}-{name}")
        counts[name] = pdf_pages(pdf)
    assert counts == {name: 1 for name in counts}, counts
