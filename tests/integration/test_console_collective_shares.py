"""The clerk's asset verification, share register, share transfer on the holder's consent,
share certificate and dividends through real HTTP against real PostgreSQL: each form records
the entry signed by the collective naming the user; refusals beside the field with what was
typed kept; a double submit recorded once; hostile inputs refused with nothing recorded; the
dividend previewed before signing and its statement printed with the names and the QR code;
another collective's clerk, a township officer and anonymous visitors see no name."""

from __future__ import annotations

import hashlib
import re

import pytest_asyncio

from tests.console_support import assert_light, entry_at, signed_in
from tests.integration.test_console_accounts import Browser
from tests.integration.test_console_collective_members import World, form_at, sql
from tests.integration.test_console_township import add_users, hold_keys
from tests.registry_support import hexdigest, village
from tests.support import LedgerFixture

C = "/console/collective"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(ledger: LedgerFixture) -> World:
    await ledger.client.append(
        ledger.keys["county"], "policy.set", {"numbers": {"holder_share_cap_bp": 5000}}
    )
    v = await village(ledger, "os-zhen", "os-cun")
    other = await village(ledger, "os-zhen", "os-cun2")
    household, people = await v.members(3)
    await other.members(1)
    await hold_keys(ledger, v.village, other.village)
    await add_users(
        ledger,
        [
            (v.village, "collective_clerk", "os-clerk"),
            (other.village, "collective_clerk", "os-clerk2"),
            (v.township, "township_officer", "os-officer"),
        ],
    )
    return World(v, other, people, household)


async def test_an_asset_verification_by_its_form(ledger: LedgerFixture, world: World) -> None:
    b = await signed_in(ledger, "os-clerk")
    page = await b.get(f"{C}/assets")
    assert page.status_code == 200 and "清产核资" in page.text
    fields = form_at(page.text, f"{C}/assets")
    typed = {
        **fields,
        "as_of": "2026-02-28",
        "operating1.category": "factory_rental",
        "operating1.value": "1200000",
        "operating2.category": "cold_store",
        "operating2.value": "300000.50",
        "resource1.category": "barren_hills",
        "resource1.area_m2": "66667",
        "liabilities": "500000",
    }
    size = await ledger.size()
    for extra, field in (
        ({"operating1.value": "9" * 40}, "operating1-value"),
        ({"operating1.value": "12\x0034"}, "operating1-value"),
        ({"operating2.category": ""}, "operating2-category"),
        ({"resource1.area_m2": "-5"}, "resource1-area_m2"),
        ({"liabilities": "lots"}, "liabilities"),
        ({"operating1.category": "palace"}, "operating1-category"),
        ({"as_of": "2026-13-01"}, "as_of"),
    ):
        r = await b.post(f"{C}/assets", {**typed, **extra})
        assert r.status_code == 422 and f'id="f-{field}-error"' in r.text, (extra, r.text[-600:])
        assert 'value="2026-02-28"' in r.text or "as_of" in extra
    assert await ledger.size() == size
    first = await b.post(f"{C}/assets", typed)
    second = await b.post(f"{C}/assets", typed)
    assert first.status_code == second.status_code == 303, first.text
    assert await ledger.size() == size + 1
    entry = await entry_at(ledger, size)
    assert (entry["kind"], entry["actor"]) == ("assets.verified", world.v.village) and entry["user"]
    assert entry["payload"]["operating_assets"][1] == {"category": "cold_store", "value_fen": 30000050}
    assert entry["payload"]["resource_assets"] == [{"category": "barren_hills", "area_m2": 66667}]
    listed = await b.get(first.headers["location"])
    assert "1,000,000.50" in listed.text and "（现行）" in listed.text
    older = form_at(listed.text, f"{C}/assets")
    r = await b.post(f"{C}/assets", {**typed, **older, "as_of": "2025-01-01"})
    assert r.status_code == 422 and 'id="f-as_of-error"' in r.text and "早于现行" in r.text


async def quantified(fx: LedgerFixture, world: World) -> str:
    [(verification,)] = await sql(
        fx,
        "SELECT id FROM asset_verifications WHERE collective_id = :c AND superseded_by IS NULL",
        c=world.v.village,
    )
    await world.v.append(
        "shares.quantified",
        {
            "scheme": "GFHZ-os-1",
            "verification": verification,
            "scheme_date": fx.clock().date().isoformat(),
            "basic_units_per_member": 100,
            "labour_units_per_year": 0,
            "collective_units": 100,
            "total_units": 400,
            "allocations": [
                {
                    "party": p.party,
                    "household": world.household,
                    "basic_units": 100,
                    "labour_years": 0,
                    "labour_units": 0,
                }
                for p in world.people
            ],
        },
    )
    return str(verification)


async def test_a_share_transfer_records_the_holders_consent(ledger: LedgerFixture, world: World) -> None:
    await quantified(ledger, world)
    b = await signed_in(ledger, "os-clerk")
    register = await b.get(f"{C}/shares")
    assert register.status_code == 200 and all(p.name in register.text for p in world.people)
    assert "集体股" in register.text and "现有 400 股" in register.text
    holder, to = world.people[0], world.people[1]
    path = f"{C}/shares/transfer"
    page = await b.get(f"{path}?holder={holder.party}")
    assert page.status_code == 200 and "书面同意" in page.text and f'<option value="{to.party}"' in page.text
    fields = form_at(page.text, path)
    typed = {
        **fields,
        "to": to.party,
        "units": "30",
        "price": "4500",
        "consent.number": "TY-2026-007",
        "consent.date": "2026-03-05",
        "note": "户主本人到场签字",
    }
    size = await ledger.size()
    for extra, field in (
        ({}, "consent-sha256"),
        ({"units": "99999999999999999999", "consent.sha256": hexdigest("c")}, "units"),
        ({"units": "0", "consent.sha256": hexdigest("c")}, "units"),
        ({"units": "101", "consent.sha256": hexdigest("c")}, "units"),
        ({"price": "1e9", "consent.sha256": hexdigest("c")}, "price"),
        ({"to": world.other.village, "consent.sha256": hexdigest("c")}, "to"),
        ({"to": holder.party, "consent.sha256": hexdigest("c")}, "to"),
        ({"consent.number": "N\x00", "consent.sha256": hexdigest("c")}, "consent-number"),
    ):
        r = await b.post(path, {**typed, **extra})
        assert r.status_code == 422 and f'id="f-{field}-error"' in r.text, (extra, r.text[-700:])
        assert 'value="TY-2026-007"' in r.text or "consent.number" in extra
    assert await ledger.size() == size
    stranger = await b.post(path, {**typed, "holder": world.other.village})
    assert stranger.status_code == 403
    scan = b"signed consent of the holder"
    upload = {"consent.file": ("consent.jpg", scan, "image/jpeg")}
    first = await b.post(path, typed, files=upload)
    second = await b.post(path, typed, files=upload)
    assert first.status_code == second.status_code == 303, first.text
    assert await ledger.size() == size + 1
    entry = await entry_at(ledger, size)
    assert (entry["kind"], entry["actor"]) == ("shares.transferred", world.v.village) and entry["user"]
    assert entry["payload"] == {
        "holder": holder.party,
        "to": to.party,
        "units": 30,
        "price_fen": 450000,
        "agreement": hashlib.sha256(scan).hexdigest(),
    }
    [(note,)] = await sql(ledger, "SELECT text FROM entry_notes WHERE entry_id = :e", e=entry["id"])
    assert "TY-2026-007" in note and "2026-03-05" in note and "户主本人到场签字" in note
    after = await b.get(f"{C}/shares")
    assert re.search(r"<td>70</td>", after.text) and re.search(r"<td>130</td>", after.text)


async def test_a_buy_back_records_the_holders_consent_within_the_annual_cap(
    ledger: LedgerFixture, world: World
) -> None:
    b = await signed_in(ledger, "os-clerk")
    holder = world.people[2]
    page = await b.get(f"{C}/shares/transfer?holder={holder.party}")
    assert (
        "集体回购" in page.text
        and page.text.count('id="f-units"') == page.text.count('id="f-exit-units"') == 1
    )
    fields = form_at(page.text, f"{C}/shares/buyback")
    typed = {
        **fields,
        "exit.units": "30",
        "exit.price": "3000",
        "exit.consent.sha256": hexdigest("exit"),
        "exit.note": "自愿退出",
    }
    size = await ledger.size()
    over = await b.post(f"{C}/shares/buyback", typed)  # 30 of 400 issued is over 5% a year
    assert over.status_code == 422 and 'id="f-exit-units-error"' in over.text and "年度回购上限" in over.text
    assert 'value="3000"' in over.text and await ledger.size() == size
    r = await b.post(f"{C}/shares/buyback", {**typed, "exit.units": "20"})
    assert r.status_code == 303, r.text
    entry = await entry_at(ledger, size)
    assert entry["kind"] == "shares.bought_back" and entry["payload"]["agreement"] == hexdigest("exit")
    assert entry["payload"]["units"] == 20 and entry["user"]
    [(note,)] = await sql(ledger, "SELECT text FROM entry_notes WHERE entry_id = :e", e=entry["id"])
    assert note == "自愿退出"
    # Twenty units move on to the holder who sold back (for the certificate and dividend below).
    await world.v.append(
        "shares.transferred",
        {
            "holder": world.people[1].party,
            "to": holder.party,
            "units": 20,
            "price_fen": 0,
            "agreement": hexdigest("t"),
        },
    )


async def test_a_share_certificate_lists_the_households_holdings(ledger: LedgerFixture, world: World) -> None:
    b = await signed_in(ledger, "os-clerk")
    page = await b.get(f"{C}/households/{world.household}/certificate")
    path = f"{C}/households/{world.household}/share-certificate"
    fields = form_at(page.text, path)
    size = await ledger.size()
    r = await b.post(path, {**fields, "share.certificate": "GQZ-os-1"})
    again = await b.post(path, {**fields, "share.certificate": "GQZ-os-1"})
    assert r.status_code == again.status_code == 303, r.text
    assert await ledger.size() == size + 1
    entry = await entry_at(ledger, size)
    assert entry["kind"] == "shares.certificate_issued"
    assert entry["payload"]["holdings"] == {
        world.people[0].party: 70,
        world.people[1].party: 110,
        world.people[2].party: 100,
    }
    fresh = await b.get(f"{C}/households/{world.household}/certificate")
    reused = await b.post(path, {**form_at(fresh.text, path), "share.certificate": "GQZ-os-1"})
    assert reused.status_code == 422 and 'id="f-share-certificate-error"' in reused.text
    assert "这个证书编号已经用过" in reused.text and page.text.count('id="f-certificate"') == 1
    printed = await ledger.client.http.get("/v1/certificates/GQZ-os-1/print")
    assert printed.status_code == 200 and "<svg" in printed.text


async def test_a_dividend_is_previewed_then_signed_and_its_statement_printed(
    ledger: LedgerFixture, world: World
) -> None:
    b = await signed_in(ledger, "os-clerk")
    page = await b.get(f"{C}/dividends")
    assert page.status_code == 200 and "宣布分红" in page.text
    fields = form_at(page.text, f"{C}/dividends/preview")
    typed = {**fields, "distributable": "1000", "amount": "100.01", "resolution.number": "JY-3"}
    size = await ledger.size()
    for extra, field in (
        ({"resolution.sha256": hexdigest("r"), "amount": "2000"}, "amount"),
        ({"resolution.sha256": hexdigest("r"), "amount": "9" * 30}, "amount"),
        ({"resolution.sha256": hexdigest("r"), "distributable": "-1"}, "distributable"),
        ({}, "resolution-sha256"),
    ):
        r = await b.post(f"{C}/dividends/preview", {**typed, **extra})
        assert r.status_code == 422 and f'id="f-{field}-error"' in r.text, (extra, r.text[-600:])
        assert 'value="JY-3"' in r.text
    preview = await b.post(f"{C}/dividends/preview", {**typed, "resolution.sha256": hexdigest("r")})
    assert preview.status_code == 200 and "尚未签署" in preview.text
    assert await ledger.size() == size
    # 10001 fen over 380 units (70/110/100/100 after the buy-back): 1842.29, 2895.03, 2631.84,
    # 2631.84 fen; the two fen left go to the largest remainders (the two holdings of 100).
    assert (
        "18.42" in preview.text
        and "28.95" in preview.text
        and "26.32" in preview.text
        and "合计分出 100.01 元" in preview.text
    )
    assert world.people[1].name in preview.text
    confirm = form_at(preview.text, f"{C}/dividends")
    first = await b.post(f"{C}/dividends", confirm)
    second = await b.post(f"{C}/dividends", confirm)
    assert first.status_code == second.status_code == 303, first.text
    assert await ledger.size() == size + 1
    entry = await entry_at(ledger, size)
    assert (entry["kind"], entry["actor"]) == ("dividend.declared", world.v.village) and entry["user"]
    assert entry["payload"]["amount_fen"] == 10001 and entry["payload"]["resolution"] == hexdigest("r")
    statement = await b.get(first.headers["location"])
    assert statement.status_code == 200 and "分红明细表" in statement.text and "<svg" in statement.text
    assert f"/verify/{size}" in statement.text and world.people[0].name in statement.text
    [(payouts,)] = await sql(ledger, "SELECT payouts FROM dividends WHERE declared_seq = :s", s=size)
    assert sum(fen for _, fen in payouts.values()) == 10001
    assert (await b.get(f"{C}/dividends/999999")).status_code == 404
    assert (await b.get(f"{C}/dividends/99999999999999999999999")).status_code in (400, 404)
    tampered = await b.post(f"{C}/dividends", {**confirm, "amount": "99999"})
    assert tampered.status_code == 422 and await ledger.size() == size + 1  # the entry id holds another act


async def test_others_see_no_name_on_the_share_pages(ledger: LedgerFixture, world: World) -> None:
    [(seq,)] = await sql(
        ledger, "SELECT declared_seq FROM dividends WHERE collective_id = :c", c=world.v.village
    )
    paths = [f"{C}/shares", f"{C}/dividends", f"{C}/assets", f"{C}/dividends/{seq}"]
    paths.append(f"{C}/shares/transfer?holder={world.people[0].party}")
    anonymous = Browser(ledger)
    for path in paths:
        r = await anonymous.get(path)
        assert r.status_code == 303, path
    for username in ("os-clerk2", "os-officer"):
        b = await signed_in(ledger, username)
        for path in paths:
            r = await b.get(path)
            assert not any(p.name in r.text or p.id_number in r.text for p in world.people), (username, path)
            if username == "os-officer":
                assert r.status_code == 403
    own = await signed_in(ledger, "os-clerk")
    for path in paths:
        await assert_light(ledger, own, path)
