"""The pages people read, through the real app: the three certificates and the retained-rights
statements of a large household, in Chinese, with Beijing times and never a wire time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from api.reads.printed_page import beijing_time, mu
from tests.printed_support import LargeHousehold, build_large_household
from tests.support import LedgerFixture

WIRE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?Z")
BEIJING_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d 北京时间")


@pytest.fixture(scope="module")
async def h(ledger: LedgerFixture) -> LargeHousehold:
    return await build_large_household(ledger)


async def page(fx: LedgerFixture, path: str, **params: object) -> str:
    r = await fx.client.http.get(path, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    return r.text


def title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html)
    assert found, html[:300]
    return found.group(1)


def assert_beijing_times_only(html: str) -> list[str]:
    assert not WIRE_TIME.findall(html), WIRE_TIME.findall(html)
    times = BEIJING_TIME.findall(html)
    assert times
    return times


async def recorded_at(fx: LedgerFixture, seq: int) -> str:
    return str((await fx.client.get(f"/v1/entries/{seq}"))["recorded_at"])


async def test_share_certificate_is_titled_in_chinese_with_each_holders_units(
    h: LargeHousehold, ledger: LedgerFixture
) -> None:
    html = await page(ledger, f"/v1/certificates/{h.certificates['shares']}/print")
    assert title(html) == f"股份经济合作社股权证书 {h.certificates['shares']}"
    assert "<h1>股权证书</h1>" in html and "后疃村股份经济合作社" in html
    for holder, units in h.units.items():
        row = re.search(rf"{holder}</td><td>([^<]*)</td><td class=num>([\d,]+)</td>", html)
        assert row, holder
        assert (row.group(1), row.group(2)) == ("集体成员", f"{units:,}")  # before settling
    held = sum(h.units.values())
    assert f"本户合计</td><td class=num>{held:,}</td>" in html
    assert f"{held * 100 / h.total_units:.2f}%" in html
    assert f"总股本</th><td>{h.total_units:,} 股" in html
    assert "静态管理（增人不增股、减人不减股）" in html
    times = assert_beijing_times_only(html)
    assert beijing_time(await recorded_at(ledger, h.seqs["share_certificate"])) in times


async def test_membership_and_transfer_filing_certificates(h: LargeHousehold, ledger: LedgerFixture) -> None:
    for kind, heading in (("membership", "集体成员资格证明"), ("transfer_filing", "转移备案证书")):
        html = await page(ledger, f"/v1/certificates/{h.certificates[kind]}/print")
        assert title(html) == f"{heading} {h.certificates[kind]}"
        assert f"<h1>{heading}</h1>" in html
        for contract, parcels in h.contracts.items():
            assert contract in html
            for code, area in parcels:
                assert f"{code}</td>" in html and f"{area:,}</td><td class=num>{mu(area)}</td>" in html
        assert f"合计 {h.parcels} 块 {h.land_m2:,} ㎡（{mu(h.land_m2)} 亩）" in html
        assert f"{h.homestead_m2}</td><td class=num>{mu(h.homestead_m2)}</td>" in html
        times = assert_beijing_times_only(html)
        assert beijing_time(await recorded_at(ledger, h.seqs[kind])) in times
        statement = f"/v1/households/{h.household}/rights/print?as_of={h.seqs[kind]}"
        assert f"href='{statement}'" in html


async def test_household_statement_page(h: LargeHousehold, ledger: LedgerFixture) -> None:
    html = await page(ledger, f"/v1/households/{h.household}/rights/print")
    size = (await ledger.client.get("/healthz"))["size"]
    assert title(html) == f"农村集体经济权益清单 {h.household}（截至记录 {size - 1}）"
    assert "<h1>农村集体经济权益清单</h1>" in html
    assert "威办发〔2017〕35号" in html and "<h2>保留的权利</h2>" in html  # settled, rights retained
    for party in h.persons:
        assert f">{party}</a></td><td>" in html
    assert html.count("进城落户，权益保留") == len(h.persons)
    for parcels in h.contracts.values():
        for code, area in parcels:
            assert f"{code}</td>" in html and f"{area:,}</td><td class=num>{mu(area)}</td>" in html
    assert f"合计 {h.parcels} 块 {h.land_m2:,} ㎡（{mu(h.land_m2)} 亩）" in html
    assert "文登区后疃果蔬专业合作社" in html and html.count("<td>出租</td>") >= 3
    assert h.homestead in html and f"{h.homestead_m2}</td><td class=num>{mu(h.homestead_m2)}</td>" in html
    for holder, units in h.units.items():  # each member's row: relation, seq, status, seq, units
        cells = r"</td><td>[^<]*</td><td class=num>\d+</td><td>[^<]*</td><td class=num>\d+</td>"
        assert re.search(rf"{holder}</a>{cells}<td class=num>{units:,}</td>", html), holder
    held = sum(h.units.values())
    assert f"本户持有 {held:,} 股，占总股本 {h.total_units:,} 股的 {held * 100 / h.total_units:.2f}%" in html
    for kind, cert in h.certificates.items():
        assert f"href='/v1/certificates/{cert}/print'" in html, kind
    for name in ("contract", "lease", "homestead", "shares"):
        assert f"<td class=num>{h.seqs[name]}</td>" in html or f"记录 {h.seqs[name]}" in html, name
    doc = await ledger.client.get(f"/v1/households/{h.household}/rights")
    assert doc["checkpoint"]["root_hash"] in html and f"树大小 {doc['checkpoint']['size']:,}" in html
    assert f"GET /v1/households/{h.household}/rights?as_of={doc['as_of']}" in html
    times = assert_beijing_times_only(html)
    assert beijing_time(await recorded_at(ledger, doc["as_of"])) in times


async def test_party_statement_page_as_of_a_seq(h: LargeHousehold, ledger: LedgerFixture) -> None:
    before = h.seqs["transfer_filing"] - 1
    party = h.persons[2]
    html = await page(ledger, f"/v1/parties/{party}/rights/print", as_of=before)
    assert title(html) == f"农村集体经济权益清单 {party}（截至记录 {before}）"
    assert "<tr class=me>" in html and f"当事人编号</th><td><span class=mono>{party}</span>" in html
    assert "进城落户" not in html and "威办发" not in html  # not yet settled at that seq
    assert "<h2>享有的权利</h2>" in html
    assert "集体成员" in html and "子女" in html
    assert h.certificates["membership"] in html and h.certificates["transfer_filing"] not in html
    at = await recorded_at(ledger, before)
    assert f"记录序号 {before:,}（{beijing_time(at)}）" in html
    assert_beijing_times_only(html)
    utc = datetime.fromisoformat(at)
    assert beijing_time(at).startswith(f"{utc + timedelta(hours=8):%Y-%m-%d %H:%M}")


async def test_statement_pages_refuse_as_json_statements_do(h: LargeHousehold, ledger: LedgerFixture) -> None:
    r = await ledger.client.http.get("/v1/households/00000000-0000-4000-8000-000000000000/rights/print")
    assert r.status_code == 404 and r.json()["code"] == "household.not_found"
    r = await ledger.client.http.get(f"/v1/parties/{h.persons[0]}/rights/print", params={"as_of": 10**9})
    assert r.status_code == 400 and r.json()["code"] == "as_of.out_of_range"


async def test_openapi_links_the_json_statements_to_their_pages(ledger: LedgerFixture) -> None:
    paths = (await ledger.client.get("/schema/openapi.json"))["paths"]
    for json_path in ("/v1/parties/{party_id}/rights", "/v1/households/{household_id}/rights"):
        assert f"`GET {json_path}/print`" in paths[json_path]["get"]["description"]
        printed = paths[f"{json_path}/print"]["get"]
        assert "text/html" in printed["responses"]["200"]["content"]
        assert f"`GET {json_path}`" in printed["description"]


async def test_no_html_page_shows_a_wire_time(h: LargeHousehold, ledger: LedgerFixture) -> None:
    """Every route the OpenAPI document says answers HTML, with this household's ids."""
    ids = {
        "certificate_id": list(h.certificates.values()),
        "household_id": [h.household],
        "party_id": h.persons[:2],
    }
    paths = (await ledger.client.get("/schema/openapi.json"))["paths"]
    html_paths = [
        p
        for p, item in paths.items()
        if "text/html" in item.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
    ]
    assert "/v1/certificates/{certificate_id}/print" in html_paths and len(html_paths) >= 3
    visited = 0
    for template in html_paths:
        params = re.findall(r"{(\w+)}", template)
        assert all(p in ids for p in params), f"{template}: give the test an id for it"
        values = ids[params[0]] if params else [""]
        for value in values:
            r = await ledger.client.http.get(
                template.replace(f"{{{params[0]}}}", value) if params else template
            )
            assert r.status_code == 200, (template, r.text[:300])
            assert not WIRE_TIME.findall(r.text), (template, WIRE_TIME.findall(r.text))
            visited += 1
    assert visited >= 7
