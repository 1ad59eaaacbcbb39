"""Every kind of certificate number leads to its record's verification page: an exchange's
transaction certificate (交易鉴证书) and a house voucher, beside the registry's certificates
(tests/integration/test_verify_pages.py)."""

from __future__ import annotations

import pytest

from tests.exchange_deals_support import Deals, build_deals
from tests.support import LedgerFixture
from tests.voucher_http import VoucherMarket


@pytest.fixture(scope="module")
async def deals(ledger: LedgerFixture) -> Deals:
    return await build_deals(ledger)


async def test_a_transaction_certificate_number_leads_to_its_record(
    deals: Deals, ledger: LedgerFixture
) -> None:
    certificate = (await ledger.client.http.get("/v1/exchange/certificates/L-1")).json()
    assert certificate["certificate_no"] == "JY-2026-0001"
    seq = certificate["record"]["seq"]
    r = await ledger.client.http.get("/verify", params={"number": "JY-2026-0001"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{seq}"
    page = await ledger.client.http.get(f"/verify/{seq}")
    assert page.status_code == 200 and certificate["record"]["entry"]["kind"] in page.text


async def test_a_voucher_number_leads_to_the_record_that_issued_it(
    deals: Deals, ledger: LedgerFixture
) -> None:
    market = await VoucherMarket.open_vouchers(ledger, "verify-numbers", households=1, held=0, cash=0)
    voucher = await market.issue()
    r = await ledger.client.http.get("/verify", params={"number": voucher}, follow_redirects=False)
    assert r.status_code == 303, r.text
    seq = int(r.headers["location"].removeprefix("/verify/"))
    record = (await ledger.client.http.get(f"/v1/entries/{seq}")).json()
    assert record["entry"]["kind"] == "voucher.issued" and record["entry"]["payload"]["voucher"] == voucher
