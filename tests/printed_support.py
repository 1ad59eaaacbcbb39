"""A large household told through the real API, for the printed pages' tests: eight members,
two land contracts of eighteen parcels (one contract taken over from a neighbour), three
parcels leased to a cooperative, a homestead, shares quantified over the whole village (24
members) with the household's share certificate, its membership certificate and its whole-
household transfer filing certificate (all eight settle in town, rights retained).

Every act is a signed entry through ``LedgerClient`` and the real HTTP app, as a clerk's would
be; the ledger's clock advances as the notice periods require.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from tests.registry_support import Village, hexdigest
from tests.support import LedgerFixture, credit_code

CLASSES = ("arable", "arable", "arable", "garden", "arable", "forest", "arable", "grassland")
COOPERATIVE = {
    "type": "entity",
    "name": "文登区后疃果蔬专业合作社",
    "credit_code": credit_code("93", "371003", 7),
}


@dataclass
class LargeHousehold:
    v: Village
    household: str = ""
    persons: list[str] = field(default_factory=list)
    contracts: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # id -> (parcel, m²)
    homestead: str = ""
    homestead_m2: int = 198
    units: dict[str, int] = field(default_factory=dict)  # holder -> units
    total_units: int = 0
    certificates: dict[str, str] = field(default_factory=dict)  # kind -> id
    seqs: dict[str, int] = field(default_factory=dict)

    @property
    def land_m2(self) -> int:
        return sum(a for parcels in self.contracts.values() for _, a in parcels)

    @property
    def parcels(self) -> int:
        return sum(len(parcels) for parcels in self.contracts.values())


def _parcels(v: Village, first: int, areas: list[int]) -> list[dict[str, Any]]:
    codes = [v.parcel(first + i) for i in range(len(areas))]
    return [
        {
            "code": code,
            "area_m2": area,
            "land_class": CLASSES[i % len(CLASSES)],
            "boundaries": {
                "east": codes[i + 1] if i + 1 < len(codes) else "road",
                "south": "ditch",
                "west": codes[i - 1] if i else "collective_land",
                "north": "hill" if i % 3 else "river",
            },
        }
        for i, (code, area) in enumerate(zip(codes, areas, strict=True))
    ]


async def _append(h: LargeHousehold, name: str, kind: str, payload: dict[str, Any], **kw: Any) -> int:
    receipt = await h.v.append(kind, payload, **kw)
    h.seqs[name] = int(receipt["seq"])
    return h.seqs[name]


async def build_large_household(
    fx: LedgerFixture, township: str = "print-town", village_id: str = "print-village", parcels: int = 14
) -> LargeHousehold:
    """The household of the module docstring; ``parcels`` in its own contract (4 more come
    with the neighbour's)."""
    await fx.register("county", township, "township", "泽头镇")
    await fx.register(township, village_id, "village_collective", "后疃村股份经济合作社")
    v = Village(fx, township, village_id, random.Random(village_id))
    h = LargeHousehold(v, homestead=f"ZJD-{v.code}-0045")
    n = itertools.count(1)
    household, people = await v.members(8)
    h.household, h.persons = household, [p.party for p in people]
    others = [await v.members(4) for _ in range(4)]
    areas = [1334, 867, 2001, 1520, 640, 2712, 980, 1105, 1788, 455, 1260, 2345, 733, 1612]
    areas = (areas * (parcels // len(areas) + 1))[:parcels]
    own = f"HT-{v.code}-{next(n):04d}"
    await _append(
        h,
        "contract",
        "land.contract_issued",
        {
            "contract": own,
            "household": household,
            "certificate_no": "鲁(2019)文登区不动产权第0004518号",
            "term_start": "2018-01-01",
            "term_end": "2047-12-31",
            "parcels": _parcels(v, 100, areas),
        },
    )
    h.contracts[own] = [(v.parcel(100 + i), a) for i, a in enumerate(areas)]
    neighbour = f"HT-{v.code}-{next(n):04d}"
    extra = [1467, 820, 2130, 596]
    await v.append(
        "land.contract_issued",
        {
            "contract": neighbour,
            "household": others[0][0],
            "certificate_no": "鲁(2019)文登区不动产权第0004519号",
            "term_start": "2018-01-01",
            "term_end": "2047-12-31",
            "parcels": _parcels(v, 300, extra),
        },
    )
    await _append(
        h,
        "contract_moved",
        "land.contracting_right_transferred",
        {"contract": neighbour, "to_household": household, "consent": hexdigest("collective consent")},
    )
    h.contracts[neighbour] = [(v.parcel(300 + i), a) for i, a in enumerate(extra)]
    await _append(
        h,
        "lease",
        "land.management_transferred",
        {
            "transfer": f"LZ-{v.code}-2026-0007",
            "contract": own,
            "mode": "lease",
            "transferee": COOPERATIVE,
            "parcels": [v.parcel(100), v.parcel(101), v.parcel(102)],
            "term_start": "2026-04-01",
            "term_end": "2035-12-31",
            "agricultural_use": True,
            "written_contract": hexdigest("lease"),
            "household_consent": hexdigest("household consent"),
        },
    )
    await _append(
        h,
        "homestead",
        "homestead.granted",
        {
            "homestead": h.homestead,
            "household": household,
            "plot_code": v.parcel(900),
            "area_m2": h.homestead_m2,
            "zone": "plain",
            "certificate_no": "鲁(2021)文登区不动产权第0012077号",
        },
    )
    await _shares(h, [(household, h.persons), *((o, [p.party for p in ps]) for o, ps in others)])
    rights = {"land_contracts": sorted(h.contracts), "homesteads": [h.homestead]}
    h.certificates["membership"] = f"CYZM-{v.code}-2026-0012"
    await _append(
        h,
        "membership",
        "certificate.membership_issued",
        {
            "certificate": h.certificates["membership"],
            "household": household,
            "persons": h.persons,
            "rights": rights,
        },
    )
    h.certificates["transfer_filing"] = f"ZYBA-{v.code[:9]}-2026-0003"
    await _append(
        h,
        "transfer_filing",
        "certificate.transfer_filed",
        {
            "certificate": h.certificates["transfer_filing"],
            "village": village_id,
            "scope": "household",
            "household": household,
            "persons": h.persons,
            "membership_certificate": h.certificates["membership"],
            "rights": rights,
        },
        key=fx.keys[township],
    )
    return h


async def _shares(h: LargeHousehold, households: list[tuple[str, list[str]]]) -> None:
    v = h.v
    await v.append(
        "assets.verified",
        {
            "verification": f"QCHZ-{v.code}-2025",
            "as_of": "2025-12-31",
            "operating_assets": [
                {"category": "factory_rental", "value_fen": 186_000_000},
                {"category": "enterprise_equity", "value_fen": 40_000_000},
            ],
            "liabilities_fen": 26_000_000,
            "resource_assets": [{"category": "collective_forest", "area_m2": 200_000}],
            "non_operating_assets": [{"category": "village_office", "value_fen": 3_000_000}],
            "audit_statement": hexdigest("audit"),
        },
    )
    allocations = []
    for i, (household, persons) in enumerate(households):
        for j, party in enumerate(persons):
            years = (i + j) % 5 + 1
            allocations.append(
                {
                    "party": party,
                    "household": household,
                    "basic_units": 100,
                    "labour_years": years,
                    "labour_units": 10 * years,
                }
            )
    issued = sum(a["basic_units"] + a["labour_units"] for a in allocations)
    h.total_units = issued + 900
    await _append(
        h,
        "shares",
        "shares.quantified",
        {
            "scheme": f"ZGLH-{v.code}-2026",
            "verification": f"QCHZ-{v.code}-2025",
            "scheme_date": v.fx.clock().date().isoformat(),
            "basic_units_per_member": 100,
            "labour_units_per_year": 10,
            "collective_units": 900,
            "total_units": h.total_units,
            "allocations": allocations,
        },
    )
    h.units = {
        a["party"]: a["basic_units"] + a["labour_units"] for a in allocations if a["household"] == h.household
    }
    h.certificates["shares"] = f"GQ{v.code}0001"
    await _append(
        h,
        "share_certificate",
        "shares.certificate_issued",
        {"certificate": h.certificates["shares"], "household": h.household, "holdings": h.units},
    )
