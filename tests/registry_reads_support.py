"""A small county told through the HTTP API for the registry's read routes, remembering the seq
of every record and which entities each record touched, so that tests can check histories and
as-of statements against what was actually submitted.

Two townships: t1 with villages v1 and v2, t2 with village v3; an exchange center. In v1,
household A (three members) holds contracts CA (two parcels, one leased out) and CA2 (later
passed to household B) and homestead HA, gets a membership certificate and then settles in
town with a whole-household transfer filing certificate; household B (two members) holds CB.
In v3, household C's homestead HC is withdrawn.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from api.client import Person
from ledger.canonical import canonical_bytes
from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.merkle import leaf_hash
from ledger.proofs import verify_inclusion
from ledger.signing import KeyFile
from tests.registry_support import Village, hexdigest, new_person
from tests.support import LedgerFixture, credit_code

BOUNDS = {"east": "road", "south": "ditch", "west": "collective_land", "north": "river"}
AREAS = {"CA": (3335, 1200), "CA2": (800,), "CB": (2000,)}
HOMESTEAD_AREAS = {"HA": 180, "HC": 150}


@dataclass
class Story:
    fx: LedgerFixture
    villages: dict[str, Village] = field(default_factory=dict)
    households: dict[str, str] = field(default_factory=dict)  # "A" -> household id
    people: dict[str, list[Person]] = field(default_factory=dict)  # "A" -> persons
    seqs: dict[str, int] = field(default_factory=dict)  # named moments
    touched: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    parcels: dict[str, list[str]] = field(default_factory=dict)  # contract -> parcel codes

    async def append(
        self, v: Village, kind: str, payload: dict[str, Any], touches: list[str], key: KeyFile | None = None
    ) -> int:
        receipt = await self.fx.client.append(key or v.key, kind, payload)
        seq = int(receipt["seq"])
        for entity in touches:
            self.touched[entity].append(seq)
        return seq

    async def household(self, v: Village, name: str, size: int) -> None:
        await self.fx.origin_ready()
        people = []
        for _ in range(size):
            person = new_person(v.rng)
            receipt = await self.fx.client.submit(
                await self.fx.client.person_entry(v.key, person, clock=self.fx.clock)
            )
            self.touched[f"party:{person.party}"].append(int(receipt["seq"]))
            people.append(person)
        household = f"{name.lower()}{'0' * 7}-0000-4000-8000-{v.rng.getrandbits(48):012x}"
        self.households[name], self.people[name] = household, people
        relations = ["head", "spouse", "child"][:size]
        await self.append(
            v,
            "household.registered",
            {
                "household": household,
                "head": people[0].party,
                "members": [
                    {"party": p.party, "relation": r} for p, r in zip(people, relations, strict=False)
                ],
            },
            [f"household:{name}", *(f"party:{p.party}" for p in people)],
        )

    async def admit_all(self, v: Village, name: str) -> None:
        for p in self.people[name]:
            await self.append(
                v,
                "member.admitted",
                {
                    "party": p.party,
                    "basis": "hukou",
                    "household": self.households[name],
                    "decision": v.decision(),
                },
                [f"household:{name}", f"party:{p.party}"],
            )

    async def confirm_all(self, v: Village, name: str) -> None:
        for p in self.people[name]:
            await self.append(
                v, "member.confirmed", {"party": p.party}, [f"household:{name}", f"party:{p.party}"]
            )

    async def contract(self, v: Village, contract: str, name: str, first_parcel: int) -> None:
        codes = [v.parcel(first_parcel + i) for i in range(len(AREAS[contract]))]
        self.parcels[contract] = codes
        await self.append(
            v,
            "land.contract_issued",
            {
                "contract": contract,
                "household": self.households[name],
                "certificate_no": f"371003-{contract}",
                "term_start": "2018-01-01",
                "term_end": "2047-12-31",
                "parcels": [
                    {"code": c, "area_m2": a, "land_class": "arable", "boundaries": BOUNDS}
                    for c, a in zip(codes, AREAS[contract], strict=True)
                ],
            },
            [f"household:{name}", f"contract:{contract}", *(f"parcel:{c}" for c in codes)],
        )

    def party(self, name: str, i: int = 0) -> str:
        return self.people[name][i].party

    def everyone(self) -> list[Person]:
        return [p for people in self.people.values() for p in people]


async def build_story(fx: LedgerFixture) -> Story:
    s = Story(fx)
    for township, name in (("t1", "泽头镇"), ("t2", "宋村镇")):
        await fx.register("county", township, "township", name)
    for seed, (township, v, name) in enumerate(
        (
            ("t1", "v1", "后夹村股份经济合作社"),
            ("t1", "v2", "前夹村股份经济合作社"),
            ("t2", "v3", "宋村股份经济合作社"),
        )
    ):
        await fx.register(township, v, "village_collective", name)
        s.villages[v] = Village(fx, township, v, random.Random(seed))
    await fx.register("county", "xc", "exchange_center")
    v1, v3 = s.villages["v1"], s.villages["v3"]
    for v, name, size in ((v1, "A", 3), (v1, "B", 2), (v3, "C", 2)):
        await s.household(v, name, size)
        await s.admit_all(v, name)
    fx.clock.advance(days=8)  # type: ignore[attr-defined]
    for v, name in ((v1, "A"), (v1, "B"), (v3, "C")):
        await s.confirm_all(v, name)
    s.seqs["confirmed"] = max(s.touched["household:C"])
    await s.contract(v1, "CA", "A", 1)
    await s.contract(v1, "CA2", "A", 10)
    await s.contract(v1, "CB", "B", 20)
    await s.append(
        v1,
        "land.management_transferred",
        {
            "transfer": "LEASE-1",
            "contract": "CA",
            "mode": "lease",
            "transferee": {
                "type": "entity",
                "name": "丰收合作社",
                "credit_code": credit_code("93", "371003", 3),
            },
            "parcels": [s.parcels["CA"][0]],
            "term_start": "2026-04-01",
            "term_end": "2031-03-31",
            "agricultural_use": True,
            "written_contract": hexdigest("lease"),
            "household_consent": hexdigest("consent"),
        },
        ["contract:CA", "transfer:LEASE-1"],
    )
    for v, h, name in ((v1, "HA", "A"), (v3, "HC", "C")):
        await s.append(
            v,
            "homestead.granted",
            {
                "homestead": h,
                "household": s.households[name],
                "plot_code": v.parcel(900),
                "area_m2": HOMESTEAD_AREAS[h],
                "zone": "plain",
                "certificate_no": f"ZJ-{h}",
            },
            [f"household:{name}", f"homestead:{h}"],
        )
    s.seqs["ca2_moved"] = await s.append(
        v1,
        "land.contracting_right_transferred",
        {"contract": "CA2", "to_household": s.households["B"], "consent": hexdigest("ca2")},
        ["household:A", "household:B", "contract:CA2"],
    )
    s.seqs["hc_withdrawn"] = await s.append(
        v3,
        "homestead.withdrawn",
        {
            "homestead": "HC",
            "compensation": "cash",
            "compensation_fen": 12_000_000,
            "agreement": hexdigest("hc"),
        },
        ["household:C", "homestead:HC"],
    )
    persons = [p.party for p in s.people["A"]]
    rights = {"land_contracts": ["CA"], "homesteads": ["HA"]}
    s.seqs["mc"] = await s.append(
        v1,
        "certificate.membership_issued",
        {"certificate": "MC-A", "household": s.households["A"], "persons": persons, "rights": rights},
        ["household:A", "certificate:MC-A", *(f"party:{p}" for p in persons)],
    )
    s.seqs["settled"] = await s.append(
        v1,
        "certificate.transfer_filed",
        {
            "certificate": "TF-A",
            "village": "v1",
            "scope": "household",
            "household": s.households["A"],
            "persons": persons,
            "membership_certificate": "MC-A",
            "rights": rights,
        },
        ["household:A", "certificate:TF-A", *(f"party:{p}" for p in persons)],
        key=fx.keys["t1"],
    )
    return s


def walk(doc: Any, name: str) -> Iterator[Any]:
    """Every value under key ``name`` anywhere in ``doc``."""
    if isinstance(doc, dict):
        for k, value in doc.items():
            if k == name:
                yield value
            yield from walk(value, name)
    elif isinstance(doc, list):
        for value in doc:
            yield from walk(value, name)


def signed_checkpoint(fx: LedgerFixture, doc: dict[str, Any]) -> Checkpoint:
    """The response's checkpoint, opened with the operator's key."""
    cp = open_checkpoint(doc["checkpoint"]["note"], fx.verifier, origin=fx.origin)
    assert (cp.size, cp.root_hash.hex()) == (doc["checkpoint"]["size"], doc["checkpoint"]["root_hash"])
    return cp


def record_leaf(record: dict[str, Any]) -> bytes:
    """The leaf hash recomputed from a record's four hashed fields."""
    return leaf_hash(canonical_bytes({k: record[k] for k in ("seq", "recorded_at", "entry", "sig")}))


def verify_evidence(fx: LedgerFixture, doc: dict[str, Any]) -> int:
    """Check every ``evidence`` item of a statement against its signed checkpoint; how many."""
    cp = signed_checkpoint(fx, doc)
    items = list(walk(doc, "evidence"))
    for ev in items:
        verify_inclusion(
            bytes.fromhex(ev["leaf_hash"]),
            ev["seq"],
            cp.size,
            [bytes.fromhex(h) for h in ev["inclusion_proof"]],
            cp.root_hash,
        )
    return len(items)


def verify_history(fx: LedgerFixture, doc: dict[str, Any]) -> list[int]:
    """Check a history page's records and proofs; the seqs it lists."""
    cp = signed_checkpoint(fx, doc)
    for item in doc["items"]:
        record = item["record"]
        leaf = record_leaf(record)
        assert leaf.hex() == record["leaf_hash"]
        verify_inclusion(
            leaf, record["seq"], cp.size, [bytes.fromhex(h) for h in item["inclusion_proof"]], cp.root_hash
        )
    return [item["record"]["seq"] for item in doc["items"]]
