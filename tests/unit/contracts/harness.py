"""A ledger in memory for testing the rules, built the way the service builds one.

Every organisation has real Ed25519 keys (``ledger.signing``); every act is a real signed entry
(``ledger.entry.build_entry``) wrapped in a record ``{"seq", "recorded_at", "entry", "sig"}`` and
admitted by ``contracts.replay.Replay.apply``: the admission code the appender and the verifier
run (entry format, signature against the key history, the rule version in force, the kind's
rule). Record 0 registers the root county, signed by its own key, as genesis does.

``recorded_at`` comes from ``Harness.clock``, a clock the test moves (never backwards past the
last record, as the appender stamps); it is the only time the rules read. A test reads like the domain::

    h = Harness()
    village = h.collective()
    household, people = h.members(village, 2)
    changes = h.submit(village, "member.status_changed", {"party": people[0], "reason": "death"})
    h.refused("membership.not_a_member", village, "member.status_changed", {...})

``submit`` returns the changes the record made to the state (rows put or deleted, read off the
state before and after); ``refused`` asserts the exact refusal code and that nothing changed.
The payload builders of ``tests.registry_support`` (persons, membership decisions, parcel codes)
serve here too: ``Village``'s builders read only ``fx.clock``, ``fx.codes`` and ``fx.keys``,
which the harness provides.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import random
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar, cast

import pytest
from sqlmodel import SQLModel

from api.client import Person
from contracts.homesteads import Homestead
from contracts.land import LandContract
from contracts.parties import blind_index, personal_commitment
from contracts.replay import Replay
from contracts.rulebook import RULEBOOK
from contracts.state import Change, Delete, Key, Put, key_of
from ledger.entry import build_entry, format_time, parse_time
from ledger.errors import Rejection
from ledger.signing import KeyFile, SigningKey, b64
from tests.registry_support import Village, hexdigest, new_person
from tests.support import credit_code

R = TypeVar("R", bound=SQLModel)

ORIGIN = "unit.rural-ledger/weihai"
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # 16:00 in China Standard Time
COUNTY = "county"
COUNTY_CODE = "371003"  # 文登区
OPERATOR_SECRET = b"unit-test operator blind-index secret"
CHINA_STANDARD_TIME = timedelta(hours=8)

DOC = hexdigest("document")  # a document hash: minutes, agreements, consents
BANK = credit_code("91", COUNTY_CODE, 8801)  # a lender, by its unified social credit code
COOPERATIVE = {
    "type": "entity",
    "name": "文登丰收果蔬专业合作社",
    "credit_code": credit_code("93", COUNTY_CODE, 1),
}
BOUNDS = {"east": "road", "south": "ditch", "west": "collective_land", "north": "river"}
NO_RIGHTS: dict[str, list[str]] = {"land_contracts": [], "homesteads": []}

Snapshot = dict[type[SQLModel], dict[Key, SQLModel]]


class Clock:
    """The ledger's clock, moved by the test."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)

    def set(self, when: datetime) -> None:
        self.now = when


class Changes(list[Change]):
    """What one admitted record changed, with the record's ``seq``."""

    def __init__(self, seq: int, changes: Iterable[Change]) -> None:
        super().__init__(changes)
        self.seq = seq

    def puts(self, model: type[R]) -> list[R]:
        return [c.row for c in self if isinstance(c, Put) and isinstance(c.row, model)]

    def deleted(self, model: type[R]) -> list[R]:
        return [c.row for c in self if isinstance(c, Delete) and isinstance(c.row, model)]

    def one(self, model: type[R]) -> R:
        rows = self.puts(model)
        assert len(rows) == 1, f"expected one {model.__name__} put, found {len(rows)}"
        return rows[0]


class Harness:
    """An in-memory ledger: a county at genesis, organisations and their keys, and the state
    the admitted records built."""

    def __init__(
        self,
        *,
        start: datetime = START,
        origin: str = ORIGIN,
        genesis: bool = True,
        rules_version: int | None = RULEBOOK.current,
    ) -> None:
        """Genesis, then (like ``init``) the adoption of ``rules_version`` unless it is None,
        in which case version 1 is in force."""
        self.origin = origin
        self.clock = Clock(start)
        self.replay = Replay(origin)
        self.records: list[dict[str, Any]] = []
        # Like the appender, records are stamped at the clock's reading or the last record's
        # recorded_at, whichever is later: recorded_at never goes backwards.
        self.last_recorded_at = start
        self.keys: dict[str, KeyFile] = {}
        self.codes: dict[str, str] = {COUNTY: COUNTY_CODE}
        self.parents: dict[str, str | None] = {COUNTY: None}
        self.rng = random.Random(origin)
        self._serial = itertools.count(1)
        self._ids = itertools.count(1)
        self.keys[COUNTY] = self.new_key(COUNTY)
        if genesis:
            self.submit(COUNTY, "org.registered", self.root_payload())
            if rules_version is not None:
                self.adopt(rules_version)

    def adopt(self, version: int) -> Changes:
        """The county (the root) adopts rule ``version`` from the next seq on."""
        return self.submit(COUNTY, "rules.adopted", {"version": version})

    # The log

    @property
    def size(self) -> int:
        return self.replay.size

    def new_key(self, org_id: str) -> KeyFile:
        """A fresh key for ``org_id``, the same for the same harness history (seeded)."""
        seed = hashlib.sha256(f"{self.origin}|{org_id}|{next(self._serial)}".encode()).digest()
        return KeyFile(org_id, SigningKey.from_seed(seed))

    def sign(
        self,
        actor: str,
        kind: str,
        payload: dict[str, Any],
        *,
        key: KeyFile | SigningKey | None = None,
        entry_id: str | None = None,
    ) -> dict[str, Any]:
        """The record that would be appended next: ``payload`` signed by ``actor``'s key."""
        signing = key or self.keys[actor]
        signing = signing.key if isinstance(signing, KeyFile) else signing
        now = format_time(max(self.clock(), self.last_recorded_at))
        entry = build_entry(
            origin=self.origin,
            actor=actor,
            key_id=signing.key_id,
            kind=kind,
            payload=copy.deepcopy(payload),
            entry_id=entry_id or self.new_id(),
            signed_at=now,
        )
        return {"seq": self.size, "recorded_at": now, "entry": entry, "sig": signing.sign_entry(entry)}

    def apply(self, record: dict[str, Any]) -> Changes:
        """Admit ``record`` through ``Replay.apply``; the changes it made, or the refusal."""
        before = self.snapshot()
        self.replay.apply(record)
        self.records.append(record)
        self.last_recorded_at = parse_time(record["recorded_at"])
        return Changes(record["seq"], diff(before, self.snapshot()))

    def submit(
        self, actor: str, kind: str, payload: dict[str, Any], *, key: KeyFile | SigningKey | None = None
    ) -> Changes:
        """Sign ``payload`` as ``actor`` and admit it as the next record."""
        return self.apply(self.sign(actor, kind, payload, key=key))

    def refused(
        self,
        code: str,
        actor: str,
        kind: str,
        payload: dict[str, Any],
        *,
        key: KeyFile | SigningKey | None = None,
    ) -> Rejection:
        """Assert that the entry is refused with ``code`` and leaves the ledger as it was."""
        return self.refused_record(code, self.sign(actor, kind, payload, key=key))

    def refused_record(self, code: str, record: dict[str, Any]) -> Rejection:
        before, size = self.snapshot(), self.size
        with pytest.raises(Rejection) as caught:
            self.replay.apply(record)
        assert caught.value.code == code, f"refused {caught.value.code} ({caught.value.message}), not {code}"
        assert self.size == size, "a refused record took a seq"
        assert same_state(before, self.snapshot()), "a refused record changed the state"
        return caught.value

    def snapshot(self) -> Snapshot:
        return {model: dict(rows) for model, rows in self.replay.memory.tables.items()}

    # State

    def get(self, model: type[R], *key: Any) -> R | None:
        return self.replay.memory.load(model, key)

    def row(self, model: type[R], *key: Any) -> R:
        """The row of ``model`` with primary key ``key``, which must exist."""
        found = self.get(model, *key)
        assert found is not None, f"no {model.__name__} {key}"
        return found

    def find(self, model: type[R], **where: Any) -> list[R]:
        return sorted(self.replay.memory.load_where(model, where), key=lambda r: repr(key_of(r)))

    def rows(self, model: type[R]) -> list[R]:
        return list(self.replay.memory.tables.get(model, {}).values())  # type: ignore[arg-type]

    def today(self) -> date:
        """The ledger's date as the rules count it (China Standard Time)."""
        return (self.clock() + CHINA_STANDARD_TIME).date()

    def advance(self, **kw: float) -> None:
        self.clock.advance(**kw)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def serial(self) -> int:
        return next(self._ids)

    # Organisations

    def root_payload(self, **over: Any) -> dict[str, Any]:
        return {
            "id": COUNTY,
            "name": "威海市文登区",
            "type": "county",
            "parent": None,
            "public_keys": [b64(self.keys[COUNTY].key.public_key)],
            "area_code": COUNTY_CODE,
            **over,
        }

    def org_payload(
        self, parent: str, org_id: str, org_type: str, *, key: KeyFile | None = None, **over: Any
    ) -> dict[str, Any]:
        """An ``org.registered`` payload with valid codes under ``parent``."""
        key = key or self.new_key(org_id)
        payload: dict[str, Any] = {
            "id": org_id,
            "name": org_id,
            "type": org_type,
            "parent": parent,
            "public_keys": [b64(key.key.public_key)],
        }
        parent_code = self.codes.get(parent, COUNTY_CODE)
        n = self.serial()
        if org_type in ("township", "village_collective"):
            payload["area_code"] = f"{parent_code}{n % 1000:03d}"
        if org_type in ("village_collective", "developer"):
            prefix = "N2" if org_type == "village_collective" else "91"
            payload["credit_code"] = credit_code(prefix, parent_code[:6], n)
        payload.update(over)
        return payload

    def register(self, parent: str, org_id: str, org_type: str, **over: Any) -> str:
        """Register ``org_id`` under ``parent`` (signed by the parent) with a fresh key."""
        key = self.new_key(org_id)
        payload = self.org_payload(parent, org_id, org_type, key=key, **over)
        self.submit(parent, "org.registered", payload)
        self.keys[org_id] = key
        self.parents[org_id] = parent
        if payload.get("area_code"):
            self.codes[org_id] = payload["area_code"]
        return org_id

    def township(self, org_id: str | None = None) -> str:
        return self.register(COUNTY, org_id or f"town-{self.serial()}", "township")

    def collective(self, township: str | None = None, org_id: str | None = None) -> str:
        """A village collective under ``township`` (a new township when none is named)."""
        township = township or self.township()
        return self.register(township, org_id or f"village-{self.serial()}", "village_collective")

    def exchange_center(self, parent: str = COUNTY, org_id: str | None = None) -> str:
        return self.register(parent, org_id or f"exchange-{self.serial()}", "exchange_center")

    def developer(self, org_id: str | None = None) -> str:
        return self.register(COUNTY, org_id or f"developer-{self.serial()}", "developer")

    def housing_authority(self, org_id: str | None = None) -> str:
        return self.register(COUNTY, org_id or f"housing-{self.serial()}", "housing_authority")

    def village(self, collective: str) -> Village:
        """``tests.registry_support.Village``'s payload builders for ``collective``."""
        return Village(cast(Any, self), cast(str, self.parents[collective]), collective, self.rng)

    def set_policy(self, **numbers: Any) -> Changes:
        return self.submit(COUNTY, "policy.set", {"numbers": numbers})

    # Persons and households

    def new_person(self) -> Person:
        return new_person(self.rng)

    def party_payload(self, person: Person) -> dict[str, Any]:
        """A ``party.registered`` payload: commitment and keyed blind index, no personal data."""
        return {
            "party": person.party,
            "commitment": personal_commitment(person.fields(), self.rng.randbytes(32)),
            "blind_index": blind_index(OPERATOR_SECRET, person.id_number),
        }

    def person(self, actor: str, person: Person | None = None) -> str:
        """Register a person (a new one unless given); returns the party id."""
        person = person or self.new_person()
        self.submit(actor, "party.registered", self.party_payload(person))
        return person.party

    def household_payload(
        self, head: str, members: list[str], relations: list[str] | None = None, household: str | None = None
    ) -> dict[str, Any]:
        relations = relations or (["head", "spouse"] + ["child"] * len(members))[: len(members)]
        return {
            "household": household or self.new_id(),
            "head": head,
            "members": [{"party": p, "relation": r} for p, r in zip(members, relations, strict=True)],
        }

    def household(self, collective: str, size: int = 3) -> tuple[str, list[str]]:
        """A registered household of ``size`` new persons, none of them a member yet."""
        people = [self.person(collective) for _ in range(size)]
        payload = self.household_payload(people[0], people)
        self.submit(collective, "household.registered", payload)
        return payload["household"], people

    # Membership

    def decision(self, collective: str, **kw: Any) -> dict[str, Any]:
        """A decision that passes (assembly, 40 of 50 present, 7 days' notice from today)."""
        return self.village(collective).decision(**kw)

    def admission(
        self, collective: str, party: str, household: str | None = None, basis: str = "hukou", **decision: Any
    ) -> dict[str, Any]:
        return {
            "party": party,
            "basis": basis,
            "household": household,
            "decision": self.decision(collective, **decision),
        }

    def admit(
        self, collective: str, party: str, household: str | None = None, basis: str = "hukou", **decision: Any
    ) -> Changes:
        return self.submit(
            collective, "member.admitted", self.admission(collective, party, household, basis, **decision)
        )

    def confirm(self, collective: str, party: str) -> Changes:
        return self.submit(collective, "member.confirmed", {"party": party})

    def members(self, collective: str, size: int = 3) -> tuple[str, list[str]]:
        """A household whose persons are admitted and, after the notice (8 days), confirmed."""
        household, people = self.household(collective, size)
        for party in people:
            self.admit(collective, party, household)
        self.advance(days=8)
        for party in people:
            self.confirm(collective, party)
        return household, people

    # Land

    def parcel(self, collective: str, n: int | None = None) -> str:
        """A 19-digit parcel (or plot) code under the village's code."""
        return self.village(collective).parcel(self.serial() if n is None else n)

    def contract_payload(
        self,
        collective: str,
        household: str,
        parcels: list[str] | None = None,
        *,
        term_start: str = "2018-01-01",
        term_end: str = "2047-12-31",
        land_class: str = "arable",
        area_m2: int = 2000,
        contract: str | None = None,
    ) -> dict[str, Any]:
        parcels = parcels if parcels is not None else [self.parcel(collective)]
        n = self.serial()
        return {
            "contract": contract or f"C{n}",
            "household": household,
            "certificate_no": f"CERT-{n}",
            "term_start": term_start,
            "term_end": term_end,
            "parcels": [
                {"code": p, "area_m2": area_m2, "land_class": land_class, "boundaries": BOUNDS}
                for p in parcels
            ],
        }

    def contracted(
        self, collective: str, n_parcels: int = 2, household: str | None = None, **over: Any
    ) -> tuple[str, str, list[str]]:
        """A contract issued to ``household`` (a new member household when none is named)."""
        household = household or self.members(collective, 2)[0]
        parcels = [self.parcel(collective) for _ in range(n_parcels)]
        payload = self.contract_payload(collective, household, parcels, **over)
        self.submit(collective, "land.contract_issued", payload)
        return household, payload["contract"], parcels

    def lease_payload(
        self, contract: str, parcels: list[str], term_end: str = "2030-12-31", **over: Any
    ) -> dict[str, Any]:
        return {
            "transfer": f"T{self.serial()}",
            "contract": contract,
            "mode": "lease",
            "transferee": COOPERATIVE,
            "parcels": parcels,
            "term_start": "2026-03-01",
            "term_end": term_end,
            "agricultural_use": True,
            "written_contract": hexdigest("lease"),
            "household_consent": hexdigest("consent"),
            **over,
        }

    # Homesteads

    def grant_payload(
        self,
        collective: str,
        household: str,
        area: int = 150,
        zone: str = "plain",
        *,
        homestead: str | None = None,
        plot: str | None = None,
    ) -> dict[str, Any]:
        n = self.serial()
        return {
            "homestead": homestead or f"H{n}",
            "household": household,
            "plot_code": plot or self.parcel(collective, 5_000_000 + n),
            "area_m2": area,
            "zone": zone,
            "certificate_no": f"ZJ{n}",
        }

    def homestead(self, collective: str, household: str | None = None, **over: Any) -> tuple[str, str]:
        """A homestead granted to ``household`` (a new member household when none is named)."""
        household = household or self.members(collective, 1)[0]
        payload = self.grant_payload(collective, household, **over)
        self.submit(collective, "homestead.granted", payload)
        return household, payload["homestead"]

    # Certificates

    def rights(self, household: str) -> dict[str, list[str]]:
        """The household's active contracts and held homesteads, as a certificate lists them."""
        return {
            "land_contracts": sorted(
                c.id for c in self.find(LandContract, household_id=household) if c.status == "active"
            ),
            "homesteads": sorted(
                h.id for h in self.find(Homestead, household_id=household) if h.status == "held"
            ),
        }

    def membership_certificate_payload(
        self, household: str, persons: list[str], certificate: str | None = None
    ) -> dict[str, Any]:
        return {
            "certificate": certificate or f"MC-{self.serial()}",
            "household": household,
            "persons": persons,
            "rights": self.rights(household),
        }

    def membership_certificate(self, collective: str, household: str, persons: list[str]) -> str:
        payload = self.membership_certificate_payload(household, persons)
        self.submit(collective, "certificate.membership_issued", payload)
        return str(payload["certificate"])

    def filing_payload(
        self,
        collective: str,
        household: str,
        persons: list[str],
        membership_certificate: str,
        scope: str = "household",
        certificate: str | None = None,
    ) -> dict[str, Any]:
        return {
            "certificate": certificate or f"TF-{self.serial()}",
            "village": collective,
            "scope": scope,
            "household": household,
            "persons": persons,
            "membership_certificate": membership_certificate,
            "rights": self.rights(household),
        }

    def settle(self, collective: str, household: str, persons: list[str]) -> str:
        """A whole-household settlement in town: membership certificate, then the township's
        transfer filing certificate over every member; returns the filing's id."""
        basis = self.membership_certificate(collective, household, persons)
        payload = self.filing_payload(collective, household, persons, basis)
        self.submit(cast(str, self.parents[collective]), "certificate.transfer_filed", payload)
        return str(payload["certificate"])

    # Assets and shares

    def verification_payload(
        self,
        verification: str = "AV-2025",
        as_of: str = "2025-12-31",
        operating: Iterable[int] = (80_000_000, 40_000_000),
        liabilities: int = 20_000_000,
        **over: Any,
    ) -> dict[str, Any]:
        categories = itertools.cycle(("factory_rental", "enterprise_equity", "market", "shop"))
        return {
            "verification": verification,
            "as_of": as_of,
            "operating_assets": [
                {"category": c, "value_fen": v} for c, v in zip(categories, operating, strict=False)
            ],
            "liabilities_fen": liabilities,
            "resource_assets": [{"category": "collective_forest", "area_m2": 200_000}],
            "non_operating_assets": [{"category": "village_office", "value_fen": 3_000_000}],
            "audit_statement": DOC,
            **over,
        }

    def scheme_payload(
        self,
        members: list[tuple[str, str]],
        *,
        verification: str = "AV-2025",
        basic: int = 100,
        labour_years: Callable[[int], int] = lambda i: 2,
        per_year: int = 10,
        collective_units: int | None = None,
        **over: Any,
    ) -> dict[str, Any]:
        """A ``shares.quantified`` payload over ``members`` ((household, party) pairs) that sums
        exactly; the collective share is a quarter of the members' units unless given."""
        allocations: list[dict[str, Any]] = [
            {
                "party": party,
                "household": household,
                "basic_units": basic,
                "labour_years": labour_years(i),
                "labour_units": labour_years(i) * per_year,
            }
            for i, (household, party) in enumerate(members)
        ]
        member_units = sum(a["basic_units"] + a["labour_units"] for a in allocations)
        collective_units = member_units // 4 if collective_units is None else collective_units
        payload = {
            "scheme": "S-1",
            "verification": verification,
            "scheme_date": self.today().isoformat(),
            "basic_units_per_member": basic,
            "labour_units_per_year": per_year,
            "collective_units": collective_units,
            "total_units": member_units + collective_units,
            "allocations": allocations,
        }
        payload.update(over)
        return payload

    def quantified(self, collective: str, households: int = 6, size: int = 4) -> list[tuple[str, str]]:
        """Member households, an asset verification and a share scheme (120 units a member, a
        collective share of a quarter of that); returns the (household, party) pairs."""
        members = [
            (household, party)
            for household, people in (self.members(collective, size) for _ in range(households))
            for party in people
        ]
        self.submit(collective, "assets.verified", self.verification_payload())
        self.submit(collective, "shares.quantified", self.scheme_payload(members))
        return members


def diff(before: Snapshot, after: Snapshot) -> list[Change]:
    """The changes that turn ``before`` into ``after`` (rows are never mutated, only replaced)."""
    changes: list[Change] = []
    for model in sorted(before.keys() | after.keys(), key=lambda m: m.__name__):
        old_rows, new_rows = before.get(model, {}), after.get(model, {})
        for key in sorted(old_rows.keys() | new_rows.keys(), key=repr):
            old, new = old_rows.get(key), new_rows.get(key)
            if new is None:
                changes.append(Delete(cast(SQLModel, old)))
            elif new is not old:
                changes.append(Put(new))
    return changes


def same_state(a: Snapshot, b: Snapshot) -> bool:
    """The same rows, object for object (a refused record must not even replace a row)."""
    tables = {m for m, rows in a.items() if rows} | {m for m, rows in b.items() if rows}
    return all(
        a.get(m, {}).keys() == b.get(m, {}).keys() and all(a[m][k] is b[m][k] for k in a.get(m, {}))
        for m in tables
    )
