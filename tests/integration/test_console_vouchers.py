"""The county officer's and the developer's voucher pages through real HTTP against real
PostgreSQL: the price schedules and the county's vouchers; issuing a voucher for a withdrawn
homestead with its face computed and shown before it is submitted; a developer looking up a
presented voucher, redeeming part of it against a purchase contract and seeing the settlement
received. Refusals beside their fields with what was typed kept, double submits recorded once,
and roles and organisations kept apart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from tests.console_support import CSRF, ENTRY_ID, assert_light, field_html, signed_in
from tests.integration.test_console_accounts import Browser
from tests.integration.test_console_township import add_users, hold_keys
from tests.registry_support import Village, hexdigest, village
from tests.support import LedgerFixture

PRICES = {"plain": 150_000, "suburb": 180_000}  # fen per m²
AREA_M2 = 160
APPRAISAL_FEN = 6_000_000
FACE_FEN = AREA_M2 * PRICES["plain"] + APPRAISAL_FEN  # 30,000,000 fen: 300,000.00 yuan


@dataclass
class Vouchers:
    """A county's housing authority, a pool developer with a project, a developer outside the
    pool, a price schedule in force, and households whose homesteads were withdrawn for a
    voucher (each settled in town first, rights retained)."""

    fx: LedgerFixture
    v: Village
    authority: str
    developer: str
    stranger: str
    project: str
    schedule: str
    homesteads: list[str]
    members: dict[str, list[str]]  # homestead -> the household's party ids


async def build_vouchers(fx: LedgerFixture, name: str = "vz", households: int = 2) -> Vouchers:
    county = fx.keys["county"]
    authority, developer, stranger = f"ha-{name}", f"dev-{name}", f"dev3-{name}"
    await fx.register("county", authority, "housing_authority")
    await fx.register("county", developer, "developer")
    await fx.register("county", stranger, "developer")
    v = await village(fx, f"{name}-zhen", f"{name}-cun")
    await fx.client.append(county, "voucher.developer_admitted", {"developer": developer})
    project = f"P-{name}"
    await fx.client.append(
        county,
        "voucher.project_registered",
        {
            "project": project,
            "developer": developer,
            "presale_permit": f"WD-{project}",
            "area_code": fx.codes["county"],
        },
    )
    schedule = f"S-{name}"
    local = (fx.clock() + timedelta(hours=8)).date()  # the ledger's day, China time
    await fx.client.append(
        county,
        "voucher.prices_published",
        {"schedule": schedule, "effective_from": local.isoformat(), "prices": PRICES},
    )
    homesteads, members = [], {}
    for i in range(households):
        household, people = await v.members(2)
        homestead = f"H-{name}-{i}"
        persons = [p.party for p in people]
        await v.append(
            "homestead.granted",
            {
                "homestead": homestead,
                "household": household,
                "plot_code": v.parcel(900 + i),
                "area_m2": AREA_M2,
                "zone": "plain",
                "certificate_no": f"ZJ-{homestead}",
            },
        )
        rights = {"land_contracts": [], "homesteads": [homestead]}
        await v.append(
            "certificate.membership_issued",
            {"certificate": f"MC-{homestead}", "household": household, "persons": persons, "rights": rights},
        )
        await v.append(
            "certificate.transfer_filed",
            {
                "certificate": f"TF-{homestead}",
                "village": v.village,
                "scope": "household",
                "household": household,
                "persons": persons,
                "membership_certificate": f"MC-{homestead}",
                "rights": rights,
            },
            key=fx.keys[v.township],
        )
        await v.append(
            "homestead.withdrawn",
            {
                "homestead": homestead,
                "compensation": "voucher",
                "compensation_fen": FACE_FEN,
                "agreement": hexdigest(f"withdrawal {homestead}"),
            },
        )
        homesteads.append(homestead)
        members[homestead] = persons
    await hold_keys(fx, authority, developer, stranger)
    await add_users(
        fx,
        [
            (authority, "county_officer", f"{name}-officer"),
            (developer, "developer", f"{name}-dev"),
            (stranger, "developer", f"{name}-stranger"),
            (v.township, "township_officer", f"{name}-township"),
        ],
    )
    return Vouchers(fx, v, authority, developer, stranger, project, schedule, homesteads, members)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def market(ledger: LedgerFixture) -> Vouchers:
    return await build_vouchers(ledger)


def form_of(page: Any) -> dict[str, str]:
    """The hidden fields of the page's act form (not the sign-out form's CSRF alone)."""
    form = page.text[page.text.index('class="act"') :]
    hidden = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))
    return {**hidden, "csrf": CSRF.findall(form)[0], "entry_id": ENTRY_ID.findall(form)[0]}


def issue_path(homestead: str, appraisal: str = "60000") -> str:
    return f"/console/vouchers/issue?homestead={homestead}&appraisal_yuan={appraisal}"


async def issue(market: Vouchers, b: Browser, homestead: str, voucher: str) -> Any:
    page = await b.get(issue_path(homestead))
    return await b.post(
        "/console/vouchers/issue",
        {**form_of(page), "voucher": voucher, "appraisal": hexdigest(f"appraisal {homestead}")},
    )


async def test_the_schedules_and_the_face_are_shown_before_issuing(
    ledger: LedgerFixture, market: Vouchers
) -> None:
    b = await signed_in(ledger, "vz-officer")
    schedules = await b.get("/console/vouchers/schedules")
    assert schedules.status_code == 200, schedules.text
    assert market.schedule in schedules.text and "现行" in schedules.text and "1,500.00" in schedules.text
    english = await b.get("/console/vouchers/schedules?lang=en")
    assert "In force" in english.text and "Construction-land quota price schedules" in english.text
    await b.get("/console/vouchers/schedules?lang=zh")
    preview = await b.get(issue_path(market.homesteads[0]))
    assert preview.status_code == 200, preview.text
    assert '<strong id="face">300,000.00</strong>' in preview.text
    assert "160 m² × 1,500.00 + 60,000.00" in preview.text
    assert form_of(preview)["face_fen"] == str(FACE_FEN)
    for homestead, appraisal, where, phrase in (
        ("H-nowhere", "60000", "f-homestead-q", "本县没有这个编号的宅基地"),
        (market.homesteads[0], "六万", "f-appraisal-q", "请填写金额"),
    ):
        wrong = await b.get(issue_path(homestead, appraisal))
        field = field_html(wrong.text, where)
        assert phrase in field and (f'value="{homestead}"' in field or f'value="{appraisal}"' in field)
        assert 'class="act"' not in wrong.text  # nothing to sign until the face is known


async def test_an_issuance_refusal_is_beside_its_field_and_a_double_submit_issues_once(
    ledger: LedgerFixture, market: Vouchers
) -> None:
    b = await signed_in(ledger, "vz-officer")
    homestead = market.homesteads[0]
    size = await ledger.size()
    page = await b.get(issue_path(homestead))
    refused = await b.post(
        "/console/vouchers/issue", {**form_of(page), "voucher": "FP-vz-1", "appraisal": "不是摘要"}
    )
    assert refused.status_code == 422, refused.text
    field = field_html(refused.text, "f-appraisal")
    assert 'value="不是摘要"' in field and "payload.invalid" in field
    assert 'value="FP-vz-1"' in refused.text  # what was typed in the other field is kept too
    elsewhere = await b.post(
        "/console/vouchers/issue",
        {**form_of(page), "homestead": "H-nowhere", "voucher": "FP-vz-1", "appraisal": hexdigest("a")},
    )
    assert elsewhere.status_code == 422 and "这块宅基地没有退出记录" in elsewhere.text
    hostile = {**form_of(page), "voucher": "FP-vz-1", "appraisal": hexdigest("a")}
    for over in ({"appraisal_fen": "1" * 21}, {"face_fen": "9" * 40}, {"homestead": ""}):
        r = await b.post("/console/vouchers/issue", {**hostile, **over})
        assert r.status_code == 422, (over, r.text[:1500])
    assert await ledger.size() == size
    page = await b.get(issue_path(homestead))
    data = {**form_of(page), "voucher": "FP-vz-1", "appraisal": hexdigest("appraisal")}
    first = await b.post("/console/vouchers/issue", data)
    assert first.status_code == 200, first.text
    second = await b.post("/console/vouchers/issue", data)
    assert second.status_code == 200 and "FP-vz-1" in second.text
    assert await ledger.size() == size + 1
    entry = (await ledger.client.get(f"/v1/entries/{size}"))["entry"]
    assert (entry["kind"], entry["actor"]) == ("voucher.issued", market.authority)
    assert (
        entry["payload"]["face_fen"] == FACE_FEN and entry["payload"]["holders"] == market.members[homestead]
    )
    again = await issue(market, b, homestead, "FP-vz-2")
    assert again.status_code == 422 and "voucher.already_compensated" in again.text
    listed = await b.get("/console/vouchers/")
    assert "FP-vz-1" in listed.text and "300,000.00" in listed.text


async def issued(market: Vouchers, voucher: str) -> str:
    """A voucher for the market's second homestead (issued once, whichever test asks first)."""
    found = await market.fx.client.http.get(f"/v1/vouchers/{voucher}")
    if found.status_code != 200:
        b = await signed_in(market.fx, "vz-officer")
        r = await issue(market, b, market.homesteads[1], voucher)
        assert r.status_code == 200, r.text
    return voucher


def redeem_data(market: Vouchers, page: Any, voucher: str, **over: str) -> dict[str, str]:
    return {
        **form_of(page),
        "redemption": "SY-vz-1",
        "holder": market.members[market.homesteads[1]][0],
        "project": market.project,
        "unit": "3-502",
        "purchase_contract": hexdigest("purchase 3-502"),
        "price_yuan": "800000",
        "amount_yuan": "100000",
        **over,
    }


async def test_a_developer_redeems_part_of_a_presented_voucher_once(
    ledger: LedgerFixture, market: Vouchers
) -> None:
    voucher = await issued(market, "FP-vz-9")
    b = await signed_in(ledger, "vz-dev")
    lookup = f"/console/developer/vouchers?voucher={voucher}"
    page = await b.get(lookup)
    assert page.status_code == 200, page.text
    assert '<td id="balance">300,000.00</td>' in page.text
    size = await ledger.size()
    path = f"/console/developer/vouchers/{voucher}/redeem"
    for over, where, shown in (
        ({"amount_yuan": "十万"}, "f-amount_yuan", "请填写金额"),
        ({"amount_yuan": "400000"}, "f-amount_yuan", "使用金额超过了房票余额"),
        ({"purchase_contract": "合同"}, "f-purchase_contract", "填写的内容格式不对"),
    ):
        r = await b.post(path, redeem_data(market, await b.get(lookup), voucher, **over))
        assert r.status_code == 422, r.text
        field = field_html(r.text, where)
        assert shown in field and f'value="{next(iter(over.values()))}"' in field, field
        assert 'value="3-502"' in r.text
    assert await ledger.size() == size
    data = redeem_data(market, await b.get(lookup), voucher)
    first = await b.post(path, data)
    assert first.status_code == 200, first.text
    second = await b.post(path, data)
    assert second.status_code == 200, second.text
    assert await ledger.size() == size + 1
    entry = (await ledger.client.get(f"/v1/entries/{size}"))["entry"]
    assert (entry["kind"], entry["actor"]) == ("voucher.redeemed", market.developer)
    assert (entry["payload"]["amount_fen"], entry["payload"]["price_fen"]) == (10_000_000, 80_000_000)
    after = await b.get(lookup)
    assert '<td id="balance">200,000.00</td>' in after.text
    await ledger.client.append(
        ledger.keys[market.authority],
        "voucher.settled",
        {
            "redemption": "SY-vz-1",
            "stage": "contract",
            "amount_fen": await stage_due(ledger, market.developer, "SY-vz-1"),
            "payment": hexdigest("settle"),
        },
    )
    report = await b.get("/console/developer/")
    assert report.status_code == 200 and "SY-vz-1" in report.text and "已付" in report.text


async def stage_due(fx: LedgerFixture, developer: str, redemption: str) -> int:
    """What the redemption's first stage pays, as the service reports it."""
    found = await fx.client.get(f"/v1/developers/{developer}/redemptions")
    (item,) = [i for i in found["items"] if i["id"] == redemption]
    return int(item["stages"][0]["amount_fen"])


async def test_roles_and_organisations_are_kept_apart(ledger: LedgerFixture, market: Vouchers) -> None:
    voucher = await issued(market, "FP-vz-9")
    stranger = await signed_in(ledger, "vz-stranger")
    page = await stranger.get(f"/console/developer/vouchers?voucher={voucher}")
    assert page.status_code == 200 and "查不到这张房票" in page.text and 'class="act"' not in page.text
    assert "SY-vz-1" not in (await stranger.get("/console/developer/")).text
    posted = await stranger.post(
        f"/console/developer/vouchers/{voucher}/redeem",
        {"csrf": CSRF.findall(page.text)[0], "entry_id": "5b7f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"},
    )
    assert posted.status_code == 403
    developer = await signed_in(ledger, "vz-dev")
    assert (await developer.get("/console/vouchers/")).status_code == 403
    officer = await signed_in(ledger, "vz-officer")
    assert (await officer.get("/console/developer/")).status_code == 403
    township = await signed_in(ledger, "vz-township")
    assert (await township.get("/console/vouchers/issue")).status_code == 403
    anonymous = Browser(ledger)
    for path in ("/console/vouchers/", "/console/developer/"):
        r = await anonymous.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login")


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("vz-officer", "/console/vouchers/"),
        ("vz-officer", "/console/vouchers/schedules"),
        ("vz-officer", "issue"),
        ("vz-dev", "/console/developer/"),
        ("vz-dev", "lookup"),
    ],
)
async def test_the_voucher_pages_are_light_and_load_nothing_from_elsewhere(
    ledger: LedgerFixture, market: Vouchers, username: str, path: str
) -> None:
    voucher = await issued(market, "FP-vz-9")
    path = {
        "issue": issue_path(market.homesteads[0]),
        "lookup": f"/console/developer/vouchers?voucher={voucher}",
    }.get(path, path)
    b = await signed_in(ledger, username)
    await assert_light(ledger, b, path)
