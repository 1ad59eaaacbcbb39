"""A village's whole story once, end to end, through the HTTP API."""

from __future__ import annotations

from tests.registry_support import village
from tests.support import LedgerFixture


async def test_village_story(ledger: LedgerFixture) -> None:
    v = await village(ledger, "boyu", "boyu-houjia")
    household, people = await v.members(3)
    contract = f"C-{household[:8]}"
    await v.append(
        "land.contract_issued",
        {
            "contract": contract,
            "household": household,
            "certificate_no": "371003-0001",
            "term_start": "2018-01-01",
            "term_end": "2047-12-31",
            "parcels": [
                {
                    "code": v.parcel(1),
                    "area_m2": 3335,
                    "land_class": "arable",
                    "boundaries": {
                        "east": "road",
                        "south": "ditch",
                        "west": "village_border",
                        "north": "river",
                    },
                }
            ],
        },
    )
    await v.append(
        "homestead.granted",
        {
            "homestead": f"H-{household[:8]}",
            "household": household,
            "plot_code": v.parcel(900),
            "area_m2": 180,
            "zone": "plain",
            "certificate_no": "ZJ-0001",
        },
    )
    rights = {"land_contracts": [contract], "homesteads": [f"H-{household[:8]}"]}
    await v.append(
        "certificate.membership_issued",
        {
            "certificate": "MC-1",
            "household": household,
            "persons": [p.party for p in people],
            "rights": rights,
        },
    )
    await v.append(
        "certificate.transfer_filed",
        {
            "certificate": "TF-1",
            "village": v.village,
            "scope": "household",
            "household": household,
            "persons": [p.party for p in people],
            "membership_certificate": "MC-1",
            "rights": rights,
        },
        key=ledger.keys[v.township],
    )
    party = await ledger.client.get(f"/v1/parties/{people[0].party}")
    assert party["membership"] == {"collective": v.village, "status": "settled_in_town"}
    personal = await ledger.client.http.get(
        f"/v1/parties/{people[0].party}/personal", auth=ledger.client.signed_by(v.key, clock=ledger.clock)
    )
    assert personal.status_code == 200, personal.text
    assert personal.json()["name"] == people[0].name
