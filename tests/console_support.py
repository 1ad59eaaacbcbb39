"""What the console's HTTP tests share: a user signed in through the real sign-in form (the
``Browser`` of test_console_accounts keeping their cookies), the form's hidden CSRF token and
entry id read off a page, a field's block with the refusal beside it, the entry recorded at a
seq, and the check that a page is light and loads nothing from elsewhere."""

from __future__ import annotations

import re
from typing import Any

from tests.integration.test_console_accounts import Browser
from tests.page_weight import LIMIT_BYTES, page_weight
from tests.support import LedgerFixture

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ENTRY_ID = re.compile(r'name="entry_id" value="([^"]+)"')


async def signed_in(fx: LedgerFixture, username: str) -> Browser:
    """A browser with ``username`` signed in (the sign-in answering 303 to the console)."""
    b = Browser(fx)
    assert (await b.sign_in(username)).status_code == 303
    return b


async def assert_light(fx: LedgerFixture, b: Browser, path: str) -> None:
    """``path`` as ``b``'s session sees it answers 200, weighs under 100 KB with everything it
    loads and loads nothing from elsewhere."""
    http = fx.client.http
    http.cookies.clear()
    http.cookies.set("rl_session", b.jar["rl_session"])
    try:
        weight = await page_weight(http, path)
    finally:
        http.cookies.clear()
    assert weight.status == 200, (path, weight)
    assert weight.total < LIMIT_BYTES and weight.external == [], (path, weight)


def field_html(html: str, html_id: str) -> str:
    """The block of the field whose input has ``html_id``: its input and any refusal beside it."""
    part = html[html.index(f'id="{html_id}"') :]
    return part[: part.index("</div>")]


async def entry_at(fx: LedgerFixture, seq: int) -> dict[str, Any]:
    """The entry the ledger recorded at ``seq``, as ``GET /v1/entries/{seq}`` answers it."""
    return dict((await fx.client.get(f"/v1/entries/{seq}"))["entry"])
