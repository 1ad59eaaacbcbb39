"""The verification page with an operator key whose base64 holds a '+' (about half of all keys
do): the page's script splits the verifier key ``name+hash+key`` at its first two '+' only, so
the key is read whole and the record verifies. The ledger here is made with such a key on
purpose, so this holds on every run rather than on half of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from api.service import genesis
from ledger.checkpoint import generate_signer
from tests.browser.chromium import Browser, require_chromium
from tests.browser.test_verify_page import browser, leave, open_page, verdict
from tests.conftest import FakeClock
from tests.printed_support import LargeHousehold, build_large_household
from tests.support import LedgerFixture, open_ledger

require_chromium("the verification page test")
__all__ = ["browser"]  # the module's browser fixture, shared with the page test


def signer_with_a_plus(name: str) -> tuple[str, str]:
    """A new operator key pair whose verifier key's base64 part holds a '+'."""
    while True:
        signer, verifier = generate_signer(name)
        if "+" in verifier.split("+", 2)[2]:
            return signer, verifier


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ledger(
    database_factory: object, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LedgerFixture]:
    url = await database_factory()  # type: ignore[operator]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(genesis, "generate_signer", signer_with_a_plus)
        async with open_ledger(url, Path(tmp_path_factory.mktemp("home")), FakeClock()) as fx:
            yield fx


async def test_a_record_verifies_under_an_operator_key_holding_a_plus(
    browser: Browser, ledger: LedgerFixture
) -> None:
    household: LargeHousehold = await build_large_household(ledger)
    visit = await open_page(browser, ledger, f"/verify/{household.seqs['transfer_filing']}")
    key = await visit.page.locator("#operator-key").inner_text()
    assert "+" in key.strip().split("+", 2)[2], key
    said = await verdict(visit.page, "verified")
    assert said.startswith("验证通过"), said
    await leave(visit, "verify-key-with-plus")
