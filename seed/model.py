"""The seed generator's own picture of the county: who lives where, who holds what.

The story consults it to emit only entries the rules accept, and the summary counts from it.
It mirrors the ledger's state for the seeded organisations; it is never read from the ledger.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from api.client import Person
from seed.places import VillagePlace


@dataclass(eq=False)
class Resident:
    person: Person
    born: date
    sex: str
    village: Village
    household: Household | None = None
    spouse: Resident | None = None
    children: int = 0
    alive: bool = True
    status: str = "none"  # none | notice | active | settled | ended

    @property
    def party(self) -> str:
        return self.person.party


@dataclass(eq=False)
class Contract:
    id: str
    parcels: dict[str, int]  # parcel code -> area in m²
    term_end: date
    leased_until: dict[str, date] = field(default_factory=dict)


@dataclass(eq=False)
class Homestead:
    id: str
    area_m2: int
    held: bool = True


@dataclass(eq=False)
class Household:
    id: str
    village: Village
    head: Resident
    members: list[Resident]
    relation: dict[str, str]  # party -> relation to the head when the person joined
    contract: Contract | None = None
    homestead: Homestead | None = None
    settled: bool = False
    house_given_up: bool = False
    dissolved: bool = False

    def rights(self) -> dict[str, list[str]]:
        return {
            "land_contracts": [self.contract.id] if self.contract else [],
            "homesteads": [self.homestead.id] if self.homestead and self.homestead.held else [],
        }


@dataclass
class Counts:
    """What the seeding made, for the summary table."""

    townships: int = 0
    villages: int = 0
    households: int = 0
    persons: int = 0
    members: int = 0
    parcels: int = 0
    homesteads: int = 0
    certificates: int = 0
    settled_persons: int = 0
    deaths: int = 0
    births: int = 0
    marriages: int = 0
    share_transfers: int = 0
    share_pledges: int = 0
    listings: int = 0  # on the exchange
    deals: int = 0  # exchange deals certified
    vouchers: int = 0  # house vouchers issued (split parts not counted again)
    cash_compensations: int = 0  # homesteads compensated in cash instead
    voucher_redemptions: int = 0
    quotas: int = 0  # land quotas applied for
    quotas_traded: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(eq=False)
class Village:
    place: VillagePlace
    rng: random.Random  # the story's choices
    ids: random.Random  # entry and record identifiers
    residents: list[Resident] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    pending: list[Resident] = field(default_factory=list)  # admitted, notice running
    serials: dict[str, int] = field(default_factory=dict)
    holdings: dict[str, list[Any]] = field(default_factory=dict)  # party -> [units, household]
    issued_units: int = 0
    total_units: int = 0
    bought_back: dict[int, int] = field(default_factory=dict)  # year -> units
    pledges: list[str] = field(default_factory=list)  # open share pledges
    counts: Counts = field(default_factory=Counts)
    showcase: dict[str, str] = field(default_factory=dict)
    last_parcel: str | None = None  # the neighbour a new parcel's boundary may name

    @property
    def id(self) -> str:
        return self.place.id

    @property
    def code(self) -> str:
        return self.place.code

    @property
    def person_area(self) -> str:
        return self.place.township.area.county_code

    def next(self, name: str) -> int:
        self.serials[name] = self.serials.get(name, 0) + 1
        return self.serials[name]

    def living(self) -> list[Resident]:
        return [r for r in self.residents if r.alive and r.household is not None]

    def active_households(self) -> list[Household]:
        return [h for h in self.households if not h.dissolved]
