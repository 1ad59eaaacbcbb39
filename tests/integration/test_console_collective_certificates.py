"""The clerk's certificate pages through real HTTP against real PostgreSQL: a household's
membership certificate issued for the confirmed members ticked with the rights the ledger
holds (a refusal beside the number with what was typed kept, a double submit recorded once),
listed and linked to its printed page with the QR code of its verification link; another
collective's clerk, a township officer and anonymous visitors see no name and may not act."""

from __future__ import annotations

import re

import pytest_asyncio

from tests.console_support import assert_light, signed_in
from tests.integration.test_console_accounts import Browser
from tests.integration.test_console_collective_members import World, form_at
from tests.integration.test_console_township import add_users, hold_keys
from tests.registry_support import village
from tests.support import LedgerFixture

C = "/console/collective"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(ledger: LedgerFixture) -> World:
    v = await village(ledger, "oc-zhen", "oc-cun")
    other = await village(ledger, "oc-zhen", "oc-cun2")
    household, people = await v.members(3)
    await v.append(
        "homestead.granted",
        {
            "homestead": "ZJD-oc-0001",
            "household": household,
            "plot_code": v.parcel(900),
            "area_m2": 160,
            "zone": "plain",
            "certificate_no": "ZJ-oc-0001",
        },
    )
    await other.members(1)
    await hold_keys(ledger, v.village, other.village)
    await add_users(
        ledger,
        [
            (v.village, "collective_clerk", "oc-clerk"),
            (other.village, "collective_clerk", "oc-clerk2"),
            (v.township, "township_officer", "oc-officer"),
        ],
    )
    return World(v, other, people, household)


async def test_a_membership_certificate_lists_the_ticked_members_and_the_rights_held(
    ledger: LedgerFixture, world: World
) -> None:
    b = await signed_in(ledger, "oc-clerk")
    path = f"{C}/households/{world.household}/certificate"
    page = await b.get(path)
    assert page.status_code == 200, page.text
    assert all(p.name in page.text for p in world.people) and "ZJD-oc-0001" in page.text
    fields = form_at(page.text, path)
    ticked = {f"person.{p.party}": "1" for p in world.people[:2]}
    size = await ledger.size()
    for number, phrase in (
        ("CY 有空格", "填写的内容格式不对"),
        ("X" * 5000, "填写的内容格式不对"),
        ("A\x00B", ""),
    ):
        r = await b.post(path, {**fields, **ticked, "certificate": number})
        assert r.status_code == 422, r.text[-400:]
        assert 'id="f-certificate-error"' in r.text and phrase in r.text
    none = await b.post(path, {**fields, "certificate": "CYZM-oc-1"})
    assert none.status_code == 422 and "请至少勾选" in none.text
    assert await ledger.size() == size
    good = {**fields, **ticked, "certificate": "CYZM-oc-1"}
    first = await b.post(path, good)
    second = await b.post(path, good)
    assert first.status_code == second.status_code == 303, first.text
    assert await ledger.size() == size + 1
    entry = (await ledger.client.get(f"/v1/entries/{size}"))["entry"]
    assert (entry["kind"], entry["actor"]) == ("certificate.membership_issued", world.v.village)
    assert sorted(entry["payload"]["persons"]) == sorted(p.party for p in world.people[:2])
    assert entry["payload"]["rights"] == {"land_contracts": [], "homesteads": ["ZJD-oc-0001"]}
    assert entry["user"]
    listing = await b.get(first.headers["location"])
    assert 'href="/v1/certificates/CYZM-oc-1/print"' in listing.text and "集体成员资格证明" in listing.text
    named = await b.get(f"{C}/certificates/{size}")
    assert named.status_code == 200 and "<svg" in named.text and f"/verify/{size}" in named.text
    assert world.people[0].name in named.text and world.people[2].name not in named.text
    assert f'href="{C}/certificates/{size}"' in listing.text
    other = await signed_in(ledger, "oc-clerk2")
    theirs = await other.get(f"{C}/certificates/{size}")
    assert theirs.status_code == 404 and world.people[0].name not in theirs.text
    officer = await signed_in(ledger, "oc-officer")
    assert (await officer.get(f"{C}/certificates/{size}")).status_code == 403
    printed = await ledger.client.http.get("/v1/certificates/CYZM-oc-1/print")
    assert printed.status_code == 200 and "<svg" in printed.text and f"/verify/{size}" in printed.text
    again = await b.post(
        path, {**form_at((await b.get(path)).text, path), **ticked, "certificate": "CYZM-oc-1"}
    )
    assert (
        again.status_code == 422
        and "这个证书编号已经用过" in again.text
        and 'value="CYZM-oc-1"' in again.text
    )
    token = re.findall(r'name="csrf" value="([^"]+)"', page.text)[0]
    assert (
        await b.post(path, {**good, "csrf": "no", "certificate": "CYZM-oc-2"})
    ).status_code == 403 and token


async def test_a_household_without_shares_has_no_share_certificate(
    ledger: LedgerFixture, world: World
) -> None:
    b = await signed_in(ledger, "oc-clerk")
    path = f"{C}/households/{world.household}/share-certificate"
    page = await b.get(f"{C}/households/{world.household}/certificate")
    assert "本户没有持股" in page.text
    token = re.findall(r'name="csrf" value="([^"]+)"', page.text)[0]
    size = await ledger.size()
    r = await b.post(
        path, {"csrf": token, "entry_id": "5b7f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "share.certificate": "GQ-1"}
    )
    assert r.status_code == 422 and "本户没有持股" in r.text and await ledger.size() == size


async def test_others_see_no_name_and_may_not_issue(ledger: LedgerFixture, world: World) -> None:
    anonymous = await Browser(ledger).get(f"{C}/households/{world.household}/certificate")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/console/login")
    size = await ledger.size()
    for username in ("oc-clerk2", "oc-officer"):
        b = await signed_in(ledger, username)
        for path in (f"{C}/households/{world.household}/certificate", f"{C}/certificates"):
            r = await b.get(path)
            assert not any(p.name in r.text or p.id_number in r.text for p in world.people), (username, path)
        assert (await b.get(f"{C}/households/{world.household}/certificate")).status_code == 403
        token = await b.csrf()
        r = await b.post(
            f"{C}/households/{world.household}/certificate",
            {"csrf": token, "certificate": "CYZM-x", **{f"person.{p.party}": "1" for p in world.people}},
        )
        assert r.status_code == 403
    assert await ledger.size() == size
    own = await signed_in(ledger, "oc-clerk")
    assert (
        await own.get(f"{C}/households/5b7f3a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b/certificate")
    ).status_code == 403
    for path in (f"{C}/households/{world.household}/certificate", f"{C}/certificates"):
        await assert_light(ledger, own, path)
