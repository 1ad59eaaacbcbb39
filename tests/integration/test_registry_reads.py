"""The registry's read side through the real HTTP app: lists, fetches, histories with proofs,
retained-rights statements as of any seq, certificates (JSON and printable), monitoring."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

from tests.registry_reads_support import (
    AREAS,
    HOMESTEAD_AREAS,
    Story,
    build_story,
    record_leaf,
    signed_checkpoint,
    verify_evidence,
    verify_history,
    walk,
)
from tests.support import LedgerFixture


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def story(ledger: LedgerFixture) -> Story:
    return await build_story(ledger)


async def get(s: Story, path: str, **params: Any) -> Any:
    r = await s.fx.client.http.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def problem(s: Story, path: str, status: int, code: str, **params: Any) -> None:
    r = await s.fx.client.http.get(path, params=params)
    assert (r.status_code, r.json().get("code")) == (status, code), r.text
    assert r.headers["content-type"].startswith("application/problem+json")


# Lists and fetches ----------------------------------------------------------------------------


async def test_households_listed_by_collective_and_paged(story: Story) -> None:
    first = await get(story, "/v1/households", collective="v1", limit=1)
    second = await get(story, "/v1/households", collective="v1", limit=1, after=first["next"])
    assert second["next"] is None
    listed = {h["id"] for h in first["items"] + second["items"]}
    assert listed == {story.households["A"], story.households["B"]}
    assert (await get(story, "/v1/households", collective="v2"))["items"] == []
    assert len((await get(story, "/v1/households", status="active"))["items"]) == 3


async def test_household_fetch_lists_members_by_party_id(story: Story) -> None:
    doc = await get(story, f"/v1/households/{story.households['A']}")
    assert doc["collective_id"] == "v1"
    assert [m["party_id"] for m in doc["members"]] == sorted(p.party for p in story.people["A"])
    assert {m["party_id"]: m["relation"] for m in doc["members"]}[story.party("A")] == "head"
    assert {m["membership"]["status"] for m in doc["members"]} == {"settled_in_town"}


async def test_members_listed_by_household_and_status(story: Story) -> None:
    settled = await get(story, "/v1/members", status="settled_in_town")
    assert {m["party_id"] for m in settled["items"]} == {p.party for p in story.people["A"]}
    b = await get(story, "/v1/members", household=story.households["B"])
    assert {m["status"] for m in b["items"]} == {"active"} and len(b["items"]) == 2
    one = await get(story, f"/v1/members/{story.party('B', 1)}")
    assert one["household_member"]["relation"] == "spouse"


async def test_land_contracts_listed_and_fetched_with_parcels(story: Story) -> None:
    b = await get(story, "/v1/land/contracts", household=story.households["B"])
    assert [c["id"] for c in b["items"]] == ["CA2", "CB"]
    ca = await get(story, "/v1/land/contracts/CA")
    assert ca["area_m2"] == sum(AREAS["CA"])
    assert [p["code"] for p in ca["parcels"]] == story.parcels["CA"]
    assert [t["id"] for t in ca["management_transfers"]] == ["LEASE-1"]
    parcel = await get(story, f"/v1/land/parcels/{story.parcels['CB'][0]}")
    assert (parcel["contract_id"], parcel["area_m2"]) == ("CB", 2000)
    leases = await get(story, "/v1/land/transfers", contract="CA", mode="lease")
    assert [t["id"] for t in leases["items"]] == ["LEASE-1"]


async def test_homesteads_listed_by_status(story: Story) -> None:
    held = await get(story, "/v1/homesteads", status="held")
    withdrawn = await get(story, "/v1/homesteads", status="withdrawn", collective="v3")
    assert [h["id"] for h in held["items"]] == ["HA"]
    assert [h["id"] for h in withdrawn["items"]] == ["HC"]
    hc = await get(story, "/v1/homesteads/HC")
    assert (hc["compensation"], hc["for_reclamation"]) == ("cash", True)


async def test_certificates_listed_by_kind_and_person(story: Story) -> None:
    filings = await get(story, "/v1/certificates", kind="transfer_filing")
    assert [c["id"] for c in filings["items"]] == ["TF-A"]
    mine = await get(story, "/v1/certificates", party=story.party("A", 2))
    assert [c["id"] for c in mine["items"]] == ["MC-A", "TF-A"]
    assert (await get(story, "/v1/certificates", party=story.party("B")))["items"] == []
    assert [c["id"] for c in (await get(story, "/v1/certificates", issuer="t1"))["items"]] == ["TF-A"]


# Histories ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "entity"),
    [
        ("/v1/households/{A}/history", "household:A"),
        ("/v1/households/{B}/history", "household:B"),
        ("/v1/households/{C}/history", "household:C"),
        ("/v1/members/{a0}/history", "party:{a0}"),
        ("/v1/members/{b1}/history", "party:{b1}"),
        ("/v1/land/contracts/CA/history", "contract:CA"),
        ("/v1/land/contracts/CA2/history", "contract:CA2"),
        ("/v1/land/parcels/{ca1}/history", "parcel:{ca1}"),
        ("/v1/homesteads/HC/history", "homestead:HC"),
        ("/v1/certificates/TF-A/history", "certificate:TF-A"),
    ],
)
async def test_history_lists_exactly_the_records_that_touched_it(
    story: Story, path: str, entity: str
) -> None:
    names = {
        "A": story.households["A"],
        "B": story.households["B"],
        "C": story.households["C"],
        "a0": story.party("A"),
        "b1": story.party("B", 1),
        "ca1": story.parcels["CA"][1],
    }
    doc = await get(story, path.format(**names))
    assert doc["next"] is None
    assert verify_history(story.fx, doc) == sorted(story.touched[entity.format(**names)])


async def test_history_pages_join_up(story: Story) -> None:
    path = f"/v1/households/{story.households['A']}/history"
    seqs: list[int] = []
    after = -1
    while after is not None:
        page = await get(story, path, after=after, limit=4)
        seqs += verify_history(story.fx, page)
        after = page["next"]
    assert seqs == sorted(story.touched["household:A"])


# Retained-rights statements ---------------------------------------------------------------


async def test_party_rights_now(story: Story) -> None:
    doc = await get(story, f"/v1/parties/{story.party('A')}/rights")
    assert doc["as_of"] == await story.fx.size() - 1
    assert doc["membership"]["status"] == "settled_in_town"
    assert doc["membership"]["evidence"]["seq"] == story.seqs["settled"]
    assert doc["household"]["id"] == story.households["A"]
    assert doc["household"]["relation"] == "head"
    assert [c["id"] for c in doc["land_contracts"]] == ["CA"]
    assert doc["land_area_m2"] == sum(AREAS["CA"])
    assert [t["id"] for t in doc["land_contracts"][0]["management_transfers"]] == ["LEASE-1"]
    assert doc["homestead"]["id"] == "HA"
    assert doc["homestead_area_m2"] == HOMESTEAD_AREAS["HA"]
    assert [c["id"] for c in doc["certificates"]] == ["MC-A", "TF-A"]
    assert verify_evidence(story.fx, doc) >= 10


async def test_party_rights_before_and_after_settling(story: Story) -> None:
    path = f"/v1/parties/{story.party('A', 1)}/rights"
    before = await get(story, path, as_of=story.seqs["settled"] - 1)
    after = await get(story, path, as_of=story.seqs["settled"])
    assert before["membership"]["status"] == "active"
    assert after["membership"]["status"] == "settled_in_town"
    assert [c["id"] for c in before["certificates"]] == ["MC-A"]
    assert [c["id"] for c in after["certificates"]] == ["MC-A", "TF-A"]
    assert before["land_contracts"] == after["land_contracts"]
    verify_evidence(story.fx, before)
    verify_evidence(story.fx, after)


async def test_party_rights_before_and_after_a_contract_passed_on(story: Story) -> None:
    path = f"/v1/parties/{story.party('A')}/rights"
    moved = story.seqs["ca2_moved"]
    before = await get(story, path, as_of=moved - 1)
    after = await get(story, path, as_of=moved)
    assert [c["id"] for c in before["land_contracts"]] == ["CA", "CA2"]
    assert before["land_area_m2"] == sum(AREAS["CA"]) + sum(AREAS["CA2"])
    assert [c["id"] for c in after["land_contracts"]] == ["CA"]
    b = await get(story, f"/v1/parties/{story.party('B')}/rights", as_of=moved)
    assert [c["id"] for c in b["land_contracts"]] == ["CA2", "CB"]
    ca2 = next(c for c in b["land_contracts"] if c["id"] == "CA2")
    assert ca2["evidence"]["seq"] == moved
    verify_evidence(story.fx, b)


async def test_party_rights_before_anything(story: Story) -> None:
    first = story.touched[f"party:{story.party('C')}"][0]
    await problem(story, f"/v1/parties/{story.party('C')}/rights", 404, "party.not_found", as_of=first - 1)
    doc = await get(story, f"/v1/parties/{story.party('C')}/rights", as_of=first)
    assert (doc["membership"], doc["household"], doc["land_contracts"]) == (None, None, [])
    assert doc["registered"]["evidence"]["seq"] == first


async def test_household_rights_now_matches_the_projection(story: Story) -> None:
    household = story.households["B"]
    doc = await get(story, f"/v1/households/{household}/rights")
    assert [m["party_id"] for m in doc["members"]] == sorted(p.party for p in story.people["B"])
    assert {m["membership"]["status"] for m in doc["members"]} == {"active"}
    for contract in doc["land_contracts"]:
        current = await get(story, f"/v1/land/contracts/{contract['id']}")
        assert {
            k: v for k, v in contract.items() if k not in ("evidence", "parcels", "management_transfers")
        } == {k: v for k, v in current.items() if k not in ("parcels", "management_transfers")}
        assert [{k: v for k, v in p.items() if k != "evidence"} for p in contract["parcels"]] == current[
            "parcels"
        ]
    fetched = await get(story, f"/v1/households/{household}")
    assert {k: v for k, v in doc["household"].items() if k != "evidence"} == {
        k: v for k, v in fetched.items() if k != "members"
    }
    verify_evidence(story.fx, doc)


async def test_household_rights_before_the_homestead_withdrawal(story: Story) -> None:
    path = f"/v1/households/{story.households['C']}/rights"
    before = await get(story, path, as_of=story.seqs["hc_withdrawn"] - 1)
    after = await get(story, path, as_of=story.seqs["hc_withdrawn"])
    assert before["homestead"]["id"] == "HC" and before["household"]["house_given_up"] is False
    assert after["homestead"] is None and after["household"]["house_given_up"] is True
    assert after["household"]["evidence"]["seq"] == story.seqs["hc_withdrawn"]


async def test_statement_evidence_names_records_that_hold_those_rows(story: Story) -> None:
    doc = await get(story, f"/v1/households/{story.households['A']}/rights")
    for ev in walk(doc, "evidence"):
        record = await get(story, f"/v1/entries/{ev['seq']}")
        assert record_leaf(record).hex() == ev["leaf_hash"]


# Certificates -------------------------------------------------------------------------------


async def test_certificate_json_carries_a_verifiable_proof(story: Story) -> None:
    from ledger.proofs import verify_inclusion

    doc = await get(story, "/v1/certificates/TF-A")
    assert doc["certificate"]["kind"] == "transfer_filing"
    assert doc["certificate"]["persons"] == sorted(p.party for p in story.people["A"])
    assert doc["certificate"]["rights"] == {"land_contracts": ["CA"], "homesteads": ["HA"]}
    assert set(doc["statuses"].values()) == {"settled_in_town"}
    assert doc["record"]["seq"] == story.seqs["settled"]
    assert doc["record"]["entry"]["kind"] == "certificate.transfer_filed"
    cp = signed_checkpoint(story.fx, doc)
    verify_inclusion(
        record_leaf(doc["record"]),
        doc["record"]["seq"],
        cp.size,
        [bytes.fromhex(h) for h in doc["inclusion_proof"]],
        cp.root_hash,
    )


async def test_certificate_print_page(story: Story) -> None:
    r = await story.fx.client.http.get("/v1/certificates/TF-A/print")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    doc = await get(story, "/v1/certificates/TF-A")
    for text in (
        "转移备案证书",
        "整户",
        "进城落户，权益保留",
        "MC-A",
        "土地承包经营权",
        "宅基地使用权",
        "验证方法",
        f"{sum(AREAS['CA']) / 666.67:.2f}",
        doc["record"]["leaf_hash"],
        doc["checkpoint"]["root_hash"],
        f"/v1/proofs/inclusion?seq={story.seqs['settled']}",
        *(p.party for p in story.people["A"]),
        *story.parcels["CA"],
    ):
        assert text in page, text
    membership = (await story.fx.client.http.get("/v1/certificates/MC-A/print")).text
    assert "集体成员资格证明" in membership and "有效期至" in membership
    assert "集体成员" in membership


async def test_certificate_page_escapes_what_it_shows(story: Story) -> None:
    page = (await story.fx.client.http.get("/v1/certificates/MC-A/print")).text
    assert "<script" not in page


# Monitoring ---------------------------------------------------------------------------------


async def test_monitoring_for_the_county(story: Story) -> None:
    doc = await get(story, "/v1/monitoring", org="county")
    f = doc["figures"]
    assert f["members_by_status"] == {"active": 4, "settled_in_town": 3}
    assert (f["people_settled_in_town"], f["households_settled_in_town"]) == (3, 1)
    assert f["transfer_filings"] == {"household": 1}
    assert f["households"] == 3
    assert f["land_contracts"] == 3
    assert f["land_area_m2"] == sum(sum(a) for a in AREAS.values())
    assert f["settled_retained_land_area_m2"] == sum(AREAS["CA"])
    assert f["settled_retained_homestead_area_m2"] == HOMESTEAD_AREAS["HA"]
    assert (f["homesteads_held"], f["homesteads_withdrawn"]) == (1, 1)
    children = {c["org"]["id"]: c["figures"] for c in doc["children"]}
    assert set(children) == {"t1", "t2"}
    assert children["t1"]["people_settled_in_town"] == 3
    assert children["t2"]["members_by_status"] == {"active": 2}
    assert "shares" not in f and "vouchers" not in f
    signed_checkpoint(story.fx, doc)


async def test_monitoring_for_a_township_and_a_village(story: Story) -> None:
    township = await get(story, "/v1/monitoring", org="t1")
    children = {c["org"]["id"]: c["figures"] for c in township["children"]}
    assert set(children) == {"v1", "v2"}
    assert children["v2"]["members_by_status"] == {}
    assert township["figures"] == children["v1"]
    village = await get(story, "/v1/monitoring", org="v1")
    assert village["children"] == [] and village["figures"] == children["v1"]


async def test_monitoring_before_and_after_settling(story: Story) -> None:
    before = await get(story, "/v1/monitoring", org="county", as_of=story.seqs["settled"] - 1)
    after = await get(story, "/v1/monitoring", org="county", as_of=story.seqs["settled"])
    assert before["figures"]["people_settled_in_town"] == 0
    assert before["figures"]["settled_retained_land_area_m2"] == 0
    assert before["figures"]["members_by_status"] == {"active": 7}
    assert after["figures"]["households_settled_in_town"] == 1
    early = await get(story, "/v1/monitoring", org="county", as_of=story.seqs["confirmed"])
    assert (early["figures"]["land_contracts"], early["figures"]["homesteads_held"]) == (0, 0)


# State as of any seq ------------------------------------------------------------------------


async def test_state_as_of_every_seq_equals_replay_up_to_it(story: Story) -> None:
    """``api.reads.history`` at seq s gives exactly the rows that replaying records 0..s rebuilds, for
    every seq and every projection table (the latest one: what the projection holds)."""
    import msgspec

    from api.reads.history import rows_as_of
    from api.service.database import asyncpg_url, make_engine
    from contracts.replay import Replay
    from contracts.rulebook import PROJECTION_MODELS

    engine = make_engine(asyncpg_url(story.fx.url))
    try:
        records, after = [], -1
        while after is not None:
            page = await get(story, "/v1/entries", after=after, limit=1000)
            records += page["items"]
            after = page["next"]
        replay = Replay(story.fx.origin)
        compared = 0
        for record in records:
            replay.apply(record)
            async with engine.connect() as conn:
                for model in PROJECTION_MODELS:
                    memory = sorted(
                        msgspec.json.encode(r.model_dump(mode="json"), order="sorted")
                        for r in replay.memory.tables.get(model, {}).values()
                    )
                    history = sorted(
                        msgspec.json.encode(v.row.model_dump(mode="json"), order="sorted")
                        for v in await rows_as_of(conn, model, record["seq"])
                    )
                    assert history == memory, f"{model.__name__} as of seq {record['seq']}"
                    compared += len(memory)
        assert compared > 500
    finally:
        await engine.dispose()
