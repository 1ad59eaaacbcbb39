"""The public verification pages through the real app: a record's page carries the record, its
proof, the signed checkpoint and the operator's key; unknown and malformed seqs and certificate
numbers are refused in the page; a certificate number leads to its record's page; the printed
certificates carry a QR code of that page; and every page, with all it loads, is light and
loads nothing from anywhere else."""

from __future__ import annotations

import json
import re

import pytest

from tests.page_weight import LIMIT_BYTES, page_weight
from tests.printed_support import LargeHousehold, build_large_household
from tests.support import LedgerFixture


@pytest.fixture(scope="module")
async def h(ledger: LedgerFixture) -> LargeHousehold:
    return await build_large_household(ledger)


def embedded(html: str, element: str) -> dict[str, object]:
    found = re.search(rf'<script type="application/json" id="{element}">(.*?)</script>', html, re.S)
    assert found, html[:500]
    value: dict[str, object] = json.loads(found.group(1))
    return value


async def test_a_records_page_embeds_what_the_browser_checks(
    h: LargeHousehold, ledger: LedgerFixture
) -> None:
    seq = h.seqs["transfer_filing"]
    r = await ledger.client.http.get(f"/verify/{seq}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    html = r.text
    evidence = embedded(html, "evidence")
    stored = await ledger.client.get(f"/v1/entries/{seq}")
    checkpoint = await ledger.client.http.get("/v1/checkpoint")
    assert evidence["seq"] == seq and evidence["leaf_hash"] == stored["leaf_hash"]
    assert evidence["operator_key"] == ledger.genesis.operator_key
    assert evidence["checkpoint"]["note"] == checkpoint.text  # type: ignore[index]
    proof = (await ledger.client.http.get("/v1/proofs/inclusion", params={"seq": seq})).json()
    assert evidence["inclusion_proof"] == proof["proof"]
    # The page says which key it checks with, so that an auditor can compare it with theirs.
    assert ledger.genesis.operator_key in html and ledger.verifier.key_hash.hex() in html
    assert "运营方公钥" in html and '<html lang="zh-Hans">' in html
    messages = embedded(html, "verify-messages")
    assert messages["js.ok"].startswith("验证通过") and messages["js.fail"].startswith("验证失败")  # type: ignore[union-attr]
    assert "/console/static/verify.js" in html


async def test_the_english_switch_and_large_type_are_kept_in_cookies(ledger: LedgerFixture) -> None:
    r = await ledger.client.http.get("/verify/0", params={"lang": "en", "large": "1"})
    assert r.status_code == 200
    assert '<html lang="en">' in r.text and "Certificate and record verification" in r.text
    assert '<body class="large">' in r.text
    assert r.cookies.get("rl_lang") == "en" and r.cookies.get("rl_large") == "1"
    messages = embedded(r.text, "verify-messages")
    assert str(messages["js.ok"]).startswith("Verified")
    ledger.client.http.cookies.clear()  # the module's other tests read the pages in Chinese
    again = await ledger.client.http.get("/verify/0", headers={"cookie": "rl_lang=en"})
    assert '<html lang="en">' in again.text
    back = await ledger.client.http.get("/verify/0", params={"lang": "zh"}, headers={"cookie": "rl_lang=en"})
    assert '<html lang="zh-Hans">' in back.text and "证书与记录验证" in back.text
    ledger.client.http.cookies.clear()


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/verify/999999", 404, "没有第 999999 号记录"),
        ("/verify/-1", 400, "不是记录序号"),
        ("/verify/01", 400, "不是记录序号"),
        ("/verify/abc", 400, "不是记录序号"),
        ("/verify/99999999999999999999", 400, "不是记录序号"),
        ("/verify?number=NO-SUCH-CERTIFICATE", 404, "没有这个编号的证书"),
        ("/verify?number=%3Cscript%3E", 400, "证书编号只含字母"),
    ],
)
async def test_unknown_or_malformed_numbers_are_refused_in_the_page(
    ledger: LedgerFixture, path: str, status: int, says: str
) -> None:
    r = await ledger.client.http.get(path)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert says in r.text
    assert "<script>" not in r.text  # what was typed is shown escaped


async def test_a_certificate_number_or_a_seq_leads_to_the_records_page(
    h: LargeHousehold, ledger: LedgerFixture
) -> None:
    number = h.certificates["membership"]
    r = await ledger.client.http.get("/verify", params={"number": f" {number} "}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/verify/{h.seqs['membership']}"
    r = await ledger.client.http.get("/verify", params={"number": "3"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/verify/3"
    paste = await ledger.client.http.get("/verify")
    assert paste.status_code == 200 and 'id="record"' in paste.text
    assert embedded(paste.text, "evidence")["operator_key"] == ledger.genesis.operator_key


async def test_each_printed_certificate_carries_a_qr_code_of_its_verification_page(
    h: LargeHousehold, ledger: LedgerFixture
) -> None:
    for kind in ("membership", "transfer_filing", "shares"):
        r = await ledger.client.http.get(f"/v1/certificates/{h.certificates[kind]}/print")
        assert r.status_code == 200
        seq = (await ledger.client.get(f"/v1/certificates/{h.certificates[kind]}"))["record"]["seq"]
        link = f"http://testserver.local/verify/{seq}"
        assert link in r.text and "<div class=qr><svg" in r.text, kind
        assert r.text.count("<svg") == 1


@pytest.mark.parametrize(
    "path", ["/verify/0", "/verify/{seq}", "/verify", "/verify/999999", "/verify/0?lang=en&large=1"]
)
async def test_every_verification_page_is_light_and_loads_nothing_from_elsewhere(
    h: LargeHousehold, ledger: LedgerFixture, path: str
) -> None:
    path = path.format(seq=h.seqs["transfer_filing"])
    weight = await page_weight(ledger.client.http, path)
    assert weight.external == []
    assert weight.total < LIMIT_BYTES, weight.sizes
    loaded = {url.removeprefix("http://testserver.local") for url in weight.sizes}
    if not path.startswith("/verify/999999"):
        assert "/console/static/verify.js" in loaded
    assert "/console/static/console.css" in loaded and "/console/static/print.css" in loaded


def test_the_weight_helper_counts_what_a_page_loads_and_names_what_is_elsewhere() -> None:
    from tests.page_weight import _css_urls, _Loads

    parser = _Loads()
    parser.feed(
        "<link rel=stylesheet href=/a.css><script src='https://cdn.example/x.js'></script>"
        "<img src=/i.png><style>b{background:url('/b.png')}</style><a href=/not-loaded>x</a>"
    )
    assert parser.urls == ["/a.css", "https://cdn.example/x.js", "/i.png"]
    assert _css_urls(parser.inline_css[0]) == ["/b.png"]
    assert _css_urls("@import 'c.css'; x{src:url(d.woff)}") == ["d.woff", "c.css"] or _css_urls(
        "@import 'c.css'; x{src:url(d.woff)}"
    ) == ["c.css", "d.woff"]
