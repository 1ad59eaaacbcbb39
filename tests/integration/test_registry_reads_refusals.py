"""The registry's read routes refuse bad parameters with a 4xx problem and a stable code (never
a 500), and show no personal data: names, resident ID numbers and phones appear in no public
response and in no record."""

from __future__ import annotations

import pytest
import pytest_asyncio

from tests.registry_reads_support import Story, build_story
from tests.support import LedgerFixture

BAD = "request.invalid_parameters"
NUL = "%00"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def story(ledger: LedgerFixture) -> Story:
    return await build_story(ledger)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v1/households?limit=0", 400, BAD),
        ("/v1/households?limit=1001", 400, BAD),
        ("/v1/households?limit=ten", 400, BAD),
        ("/v1/households?status=gone", 400, BAD),
        (f"/v1/households?collective={NUL}", 400, BAD),
        (f"/v1/households?after={NUL}", 400, BAD),
        ("/v1/households?after=" + "x" * 65, 400, BAD),
        ("/v1/households/no-such-household", 404, "household.not_found"),
        (f"/v1/households/{NUL}", 400, BAD),
        ("/v1/households/no-such-household/history", 404, "household.not_found"),
        ("/v1/households/{A}/history?after=-2", 400, BAD),
        ("/v1/households/{A}/history?after=x", 400, BAD),
        ("/v1/households/{A}/history?after=99999999999999999999", 400, BAD),
        ("/v1/households/no-such-household/rights", 404, "household.not_found"),
        ("/v1/households/{A}/rights?as_of=-1", 400, BAD),
        ("/v1/households/{A}/rights?as_of=1000000", 400, "as_of.out_of_range"),
        ("/v1/households/{A}/rights?as_of=99999999999999999999", 400, BAD),
        ("/v1/households/{A}/rights?as_of=now", 400, BAD),
        ("/v1/households/{A}/rights?as_of=0", 404, "household.not_found"),
        ("/v1/members?status=lost", 400, BAD),
        ("/v1/members/no-such-party", 404, "member.not_found"),
        ("/v1/members/no-such-party/history", 404, "party.not_found"),
        ("/v1/parties/no-such-party/rights", 404, "party.not_found"),
        (f"/v1/parties/{NUL}/rights", 400, BAD),
        ("/v1/parties/{a0}/rights?as_of=1000000", 400, "as_of.out_of_range"),
        ("/v1/land/contracts?status=sold", 400, BAD),
        ("/v1/land/contracts/NOPE", 404, "land.contract_not_found"),
        ("/v1/land/contracts/NOPE/history", 404, "land.contract_not_found"),
        ("/v1/land/parcels/0000", 404, "land.parcel_not_found"),
        ("/v1/land/parcels/0000/history", 404, "land.parcel_not_found"),
        ("/v1/land/transfers?mode=sale", 400, BAD),
        ("/v1/homesteads?zone=mars", 400, BAD),
        ("/v1/homesteads?status=sold", 400, BAD),
        ("/v1/homesteads/NOPE", 404, "homestead.not_found"),
        ("/v1/homesteads/NOPE/history", 404, "homestead.not_found"),
        ("/v1/certificates?kind=deed", 400, BAD),
        (f"/v1/certificates?party={NUL}", 400, BAD),
        ("/v1/certificates/NOPE", 404, "certificate.not_found"),
        ("/v1/certificates/NOPE/print", 404, "certificate.not_found"),
        ("/v1/certificates/NOPE/history", 404, "certificate.not_found"),
        ("/v1/monitoring", 400, BAD),
        ("/v1/monitoring?org=nope", 404, "org.not_found"),
        (f"/v1/monitoring?org={NUL}", 400, BAD),
        ("/v1/monitoring?org=xc", 422, "monitoring.not_a_region"),
        ("/v1/monitoring?org=county&as_of=1000000", 400, "as_of.out_of_range"),
        ("/v1/monitoring?org=county&as_of=-5", 400, BAD),
        ("/v1/monitoring?org=v1&as_of=1", 404, "org.not_found"),
    ],
)
async def test_bad_parameters_get_a_problem(story: Story, path: str, status: int, code: str) -> None:
    url = path.format(A=story.households["A"], a0=story.party("A"))
    r = await story.fx.client.http.get(url)
    assert (r.status_code, r.json().get("code")) == (status, code), r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def public_routes(s: Story) -> list[str]:
    """Every public registry read, for every entity of the story."""
    paths = [
        "/v1/households",
        "/v1/members",
        "/v1/land/contracts",
        "/v1/land/transfers",
        "/v1/homesteads",
        "/v1/certificates",
        "/v1/orgs",
        *(f"/v1/monitoring?org={o}" for o in ("county", "t1", "t2", "v1", "v2", "v3")),
    ]
    for household in s.households.values():
        paths += [f"/v1/households/{household}{tail}" for tail in ("", "/history", "/rights")]
    for person in s.everyone():
        paths += [
            f"/v1/members/{person.party}",
            f"/v1/members/{person.party}/history",
            f"/v1/parties/{person.party}",
            f"/v1/parties/{person.party}/rights",
        ]
    for contract, codes in s.parcels.items():
        paths += [
            f"/v1/land/contracts/{contract}",
            f"/v1/land/contracts/{contract}/history",
            *(f"/v1/land/parcels/{c}{tail}" for c in codes for tail in ("", "/history")),
        ]
    for homestead in ("HA", "HC"):
        paths += [f"/v1/homesteads/{homestead}", f"/v1/homesteads/{homestead}/history"]
    for certificate in ("MC-A", "TF-A"):
        paths += [f"/v1/certificates/{certificate}{tail}" for tail in ("", "/print", "/history")]
    return paths


async def test_no_personal_data_in_public_routes(story: Story) -> None:
    personal = [(p.party, value) for p in story.everyone() for value in (p.name, p.id_number, p.phone)]
    for path in await public_routes(story):
        r = await story.fx.client.http.get(path)
        assert r.status_code == 200, (path, r.text)
        for party, value in personal:
            assert value not in r.text, f"{path} shows a personal field of party {party}"


async def test_no_personal_data_in_any_record(story: Story) -> None:
    personal = [v for p in story.everyone() for v in (p.name, p.id_number, p.phone)]
    after, texts = -1, []
    while after is not None:
        r = await story.fx.client.http.get("/v1/entries", params={"after": after, "limit": 100})
        texts.append(r.text)
        after = r.json()["next"]
    records = "".join(texts)
    assert '"party.registered"' in records
    for value in personal:
        assert value not in records


async def test_the_personal_fields_are_still_held_for_authorised_users(story: Story) -> None:
    """The check above is not vacuous: the clear fields exist, behind a signed request."""
    person = story.people["A"][0]
    r = await story.fx.client.http.get(
        f"/v1/parties/{person.party}/personal",
        auth=story.fx.client.signed_by(story.villages["v1"].key, clock=story.fx.clock),
    )
    assert r.status_code == 200 and r.json()["id_number"] == person.id_number
