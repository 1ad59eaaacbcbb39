"""The rulebook and rule versions, in memory: what the rulebook lists and puts in force under
each version, the adoption of a version by the root, and each rule version 2 revises: version 1
accepts the entry, the same ledger adopts version 2 and is refused the same entry from then on,
still accepts the right one, and its log replays under the version in force at each seq."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

import contracts
import contracts.engine
import contracts.rulebook
from contracts.audit import AuditReplay
from contracts.engine import admit
from contracts.examples import example
from contracts.homesteads import Homestead
from contracts.land import LandContract
from contracts.membership import Membership
from contracts.registry import Payload, RecordContext, Rule, Signers, revision
from contracts.replay import Replay
from contracts.rulebook import (
    AREAS,
    PROJECTION_MODELS,
    RULEBOOK,
    RULES_ROW,
    Area,
    Rulebook,
    RulesInForce,
    version_in_force,
)
from contracts.shares import ShareHolding, SharePledge, ShareScheme
from contracts.state import Change, MemoryReader, StagedState, State
from ledger.entry import parse_submission
from ledger.errors import Category
from ledger.verify import VerifiedRecord
from tests.unit.contracts.harness import BANK, COUNTY, DOC, ORIGIN, Harness

# The kinds version 2 revises, with the refusal each revision adds.
REVISED = {
    "land.contract_issued": "land.household_without_members",
    "homestead.granted": "homestead.household_without_members",
    "homestead.transferred": "homestead.transferee_not_resident",
    "shares.pledged": "shares.income_only",
    "member.admitted": "membership.quorum_not_met",
    "shares.inherited": "shares.same_holder",
}

Entry = tuple[str, str, dict[str, Any]]  # (actor, kind, payload)


# Test-only rules


class Marker(Payload, frozen=True):
    n: int = 0


def _nothing(state: State, rec: RecordContext, p: Marker) -> list[Change]:
    return []


ANYONE = Signers(("county", "township"), "any county or township")


def marker_rule(kind: str, version: int = 1) -> Rule[Marker]:
    return Rule(kind, Marker, _nothing, None, version)


# Replay


def tables(memory: MemoryReader) -> dict[str, dict[Any, dict[str, Any]]]:
    """Every non-empty table, row by row, as plain values."""
    return {
        model.__name__: {k: r.model_dump() for k, r in rows.items()}
        for model, rows in memory.tables.items()
        if rows
    }


def verified(records: Iterable[dict[str, Any]]) -> Iterator[VerifiedRecord]:
    for r in records:
        signed = parse_submission({"entry": r["entry"], "sig": r["sig"]}, ORIGIN)
        yield VerifiedRecord(r["seq"], r["recorded_at"], signed)


def audit(h: Harness) -> AuditReplay:
    """The verifier's replay of the harness's log."""
    replay = AuditReplay()
    for record in verified(h.records):
        replay.apply(record)
    return replay


def assert_replays(h: Harness, adoption_seq: int) -> None:
    """A fresh replay and the verifier's replay both rebuild the harness's state, and the
    verifier reports version 1 before the adoption and version 2 from its seq."""
    expected = tables(h.replay.memory)
    assert tables(Replay(ORIGIN).apply_all(h.records).memory) == expected
    replayed = audit(h)
    assert tables(replayed.memory) == expected
    assert replayed.versions_used() == [
        {"version": 1, "from_seq": 0, "to_seq": adoption_seq - 1},
        {"version": 2, "from_seq": adoption_seq, "to_seq": h.size - 1},
    ]


# 1. The rulebook


def struct_problems(t: mi.Type, seen: set[type]) -> Iterator[str]:
    """Floats, decimals and structs that accept unknown fields anywhere in a payload type."""
    if isinstance(t, mi.FloatType | mi.DecimalType):
        yield type(t).__name__
    if isinstance(t, mi.StructType):
        if t.cls in seen:
            return
        seen.add(t.cls)
        if not t.forbid_unknown_fields:
            yield f"{t.cls.__name__} accepts unknown fields"
    for name in t.__struct_fields__:
        value = getattr(t, name)
        for item in value if isinstance(value, tuple) else (value,):
            inner = item.type if isinstance(item, mi.Field) else item
            if isinstance(inner, mi.Type):
                yield from struct_problems(inner, seen)


def test_every_kind_of_every_version_has_a_payload_schema_and_a_function() -> None:
    assert RULEBOOK.rules
    for (kind, version), r in RULEBOOK.rules.items():
        assert (r.kind, r.version) == (kind, version)
        assert isinstance(r.payload_type, type) and issubclass(r.payload_type, msgspec.Struct), kind
        assert list(struct_problems(mi.type_info(r.payload_type), set())) == [], (kind, version)
        assert callable(r.apply), (kind, version)
    for version in RULEBOOK.versions:
        for kind, r in RULEBOOK.kinds(version).items():
            assert RULEBOOK.rules[(kind, r.version)] is r


def test_the_current_version_is_the_highest() -> None:
    listed = {v for _, v in RULEBOOK.rules}
    assert RULEBOOK.versions == tuple(sorted(listed | {1}))
    assert RULEBOOK.current == max(listed) == RULEBOOK.versions[-1] >= 2
    assert version_in_force(StagedState(Harness(rules_version=None).replay.memory)) == 1


def test_version_2_has_the_same_kinds_and_revises_exactly_six() -> None:
    v1, v2 = RULEBOOK.kinds(1), RULEBOOK.kinds(2)
    assert v1.keys() == v2.keys()
    assert {kind for kind in v1 if v1[kind] is not v2[kind]} == REVISED.keys()
    for kind in REVISED:
        assert (v1[kind].version, v2[kind].version) == (1, 2)
        assert v1[kind].payload_type is v2[kind].payload_type  # a revision keeps the schema
        assert v1[kind].apply is not v2[kind].apply


def test_version_3_adds_the_calendar_and_the_exchange_and_revises_ten_kinds() -> None:
    """Version 3 adds the county's working-day calendar and the exchange's kinds, each in its
    own area, each first in version 3, and keeps every version 2 rule but eleven:
    ``org.registered`` (an exchange centre registers its bidding entities),
    ``land.contract_issued`` (returned land is contracted again once the return took effect),
    ``land.contracts_exchanged`` (no parcel under a running lease or an open listing is
    exchanged) and the eight kinds that would move a right under an open listing (share
    transfers, pledges and buy-backs, homestead transfers and withdrawals, management transfers,
    contracting-right transfers and returns of land)."""
    v2, v3 = RULEBOOK.kinds(2), RULEBOOK.kinds(3)
    assert v2.keys() < v3.keys()
    revised = {
        "org.registered": 1,
        "land.contract_issued": 2,
        "land.contracts_exchanged": 1,
        "land.management_transferred": 1,
        "land.contracting_right_transferred": 1,
        "land.returned": 1,
        "homestead.transferred": 2,
        "homestead.withdrawn": 1,
        "shares.transferred": 1,
        "shares.pledged": 2,
        "shares.bought_back": 1,
    }
    assert {kind for kind in v2 if v3[kind] is not v2[kind]} == revised.keys()
    for kind, before in revised.items():
        assert (v2[kind].version, v3[kind].version) == (before, 3)
        assert v2[kind].payload_type is v3[kind].payload_type  # a revision keeps the schema
        [area_before] = [a.name for a in RULEBOOK.areas if v2[kind] in a.rules]
        assert v3[kind] in next(a for a in RULEBOOK.areas if a.name == area_before).rules, kind
    added = v3.keys() - v2.keys()
    assert added == {"calendar.declared"} | {kind for kind in v3 if kind.startswith("exchange.")}
    assert len(added) == 19
    areas = {r.kind: area.name for area in RULEBOOK.areas for r in area.rules}
    for kind in added:
        assert v3[kind].version == 3 and RULEBOOK.first_version(kind) == 3, kind
        assert areas[kind] == kind.split(".")[0], kind
    assert [a.name for a in RULEBOOK.areas][-4:-2] == ["calendar", "exchange"]


def test_version_4_adds_the_vouchers_and_the_quotas_and_revises_two_exchange_kinds() -> None:
    """Version 4 adds the house vouchers' kinds and the land quotas' kinds, each in its own area,
    each first in version 4, and keeps every version 3 rule but two: ``exchange.listed`` (a
    confirmed land quota is listed too, so its schema takes a fifth right and keeps every field
    and every payload of version 3) and ``exchange.certificate_issued`` (the certificate moves a
    quota to the winner)."""
    v3, v4 = RULEBOOK.kinds(3), RULEBOOK.kinds(4)
    assert v3.keys() < v4.keys()
    revised = {"exchange.listed", "exchange.certificate_issued"}
    assert {kind for kind in v3 if v4[kind] is not v3[kind]} == revised
    areas = {r.kind: area.name for area in RULEBOOK.areas for r in area.rules}
    for kind in revised:
        assert (v3[kind].version, v4[kind].version) == (3, 4)
        assert v4[kind].signed_by == v3[kind].signed_by
        assert areas[kind] == "exchange" and v4[kind] in next(a for a in AREAS if a.name == "exchange").rules
    assert v4["exchange.certificate_issued"].payload_type is v3["exchange.certificate_issued"].payload_type
    listed_v3, listed_v4 = v3["exchange.listed"].payload_type, v4["exchange.listed"].payload_type
    assert listed_v4.__struct_fields__ == listed_v3.__struct_fields__
    assert v4["exchange.listed"].decode(example("exchange.listed")) is not None
    added = v4.keys() - v3.keys()
    vouchers = {kind for kind in added if kind.startswith("voucher.")}
    quotas = {kind for kind in added if kind.startswith("quota.")}
    assert added == vouchers | quotas and (len(vouchers), len(quotas)) == (11, 6)
    for kind in added:
        assert v4[kind].version == 4 and RULEBOOK.first_version(kind) == 4, kind
        assert areas[kind] == {"voucher": "vouchers", "quota": "quotas"}[kind.split(".")[0]], kind
    assert [a.name for a in RULEBOOK.areas][-2:] == ["vouchers", "quotas"]
    assert RULEBOOK.current == 4


def test_a_ledger_on_version_3_has_no_vouchers_until_it_adopts_version_4() -> None:
    h = Harness(rules_version=3)
    prices = example("voucher.prices_published")
    h.refused("entry.kind_not_in_force", COUNTY, "voucher.prices_published", prices)
    h.adopt(4)
    h.submit(COUNTY, "voucher.prices_published", prices)


def reference_in_force(rules: Iterable[Rule[Any]], kind: str, version: int) -> Rule[Any] | None:
    found = [r for r in rules if r.kind == kind and r.version <= version]
    return max(found, key=lambda r: r.version) if found else None


def test_in_force_picks_each_kinds_highest_version_not_above_the_one_asked() -> None:
    rules = list(RULEBOOK.rules.values())
    for kind in {r.kind for r in rules}:
        for version in range(1, RULEBOOK.current + 3):
            assert RULEBOOK.in_force(kind, version) is reference_in_force(rules, kind, version), (
                kind,
                version,
            )
    assert RULEBOOK.in_force("no.such_kind", RULEBOOK.current) is None


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["t.a", "t.b", "t.c", "t.d"]),
        st.sets(st.integers(1, 7), min_size=1, max_size=4),
        min_size=1,
    )
)
def test_in_force_in_any_rulebook(versions_of: dict[str, set[int]]) -> None:
    """A rulebook of kinds starting and revised at any versions: under each version, each
    kind's highest version not above it, or none before its first."""
    rules = [marker_rule(kind, v) for kind, vs in versions_of.items() for v in sorted(vs)]
    book = Rulebook([Area("t", (), tuple(rules))])
    everything = {v for vs in versions_of.values() for v in vs}
    assert book.versions == tuple(sorted(everything | {1}))
    assert book.current == max(everything | {1})
    for kind, vs in versions_of.items():
        assert book.first_version(kind) == min(vs)
        for version in range(1, book.current + 2):
            assert book.in_force(kind, version) is reference_in_force(rules, kind, version)
            assert (kind in book.kinds(version)) == (version >= min(vs))


def test_two_rules_of_the_same_kind_and_version_are_refused() -> None:
    with pytest.raises(RuntimeError, match=r"two rules for t\.x version 2"):
        Rulebook([Area("a", (), (marker_rule("t.x", 2),)), Area("b", (), (marker_rule("t.x", 2),))])
    with pytest.raises(RuntimeError, match=r"two rules for t\.x version 1"):
        Rulebook([Area("a", (), (marker_rule("t.x"), marker_rule("t.x")))])
    [pledge_v2] = [r for r in RULEBOOK.rules.values() if (r.kind, r.version) == ("shares.pledged", 2)]
    with pytest.raises(RuntimeError, match=r"two rules for shares\.pledged version 2"):
        Rulebook([*AREAS, Area("again", (), (dataclasses.replace(pledge_v2),))])
    Rulebook([Area("a", (), (marker_rule("t.x", 1), marker_rule("t.x", 2), marker_rule("t.y", 2)))])


def test_a_revision_needs_a_version_above_its_base() -> None:
    base = marker_rule("t.x", 2)
    for version in (0, 1, 2):
        with pytest.raises(ValueError, match="needs a version above 2"):
            revision(base, version=version, signed_by=ANYONE)
    later = revision(base, version=3, signed_by=ANYONE)(_nothing)
    assert (later.kind, later.version, later.payload_type, later.signed_by) == ("t.x", 3, Marker, ANYONE)


def test_a_revision_reads_what_its_base_reads_and_more() -> None:
    def base_reads(p: Marker, rec: RecordContext) -> list[Any]:
        return [(RulesInForce, (1,))]

    base = Rule("t.x", Marker, _nothing, base_reads, 1)
    later = revision(base, version=2, signed_by=ANYONE, reads=lambda p, rec: [(Membership, ("p",))])(_nothing)
    ctx = RecordContext(0, "", "", "t.x", "", "")
    assert later.prefetch is not None
    assert list(later.prefetch(Marker(), ctx)) == [(RulesInForce, (1,)), (Membership, ("p",))]


def test_every_projection_table_belongs_to_exactly_one_area() -> None:
    assert len(set(PROJECTION_MODELS)) == len(PROJECTION_MODELS)
    for model in PROJECTION_MODELS:
        owners = [area.name for area in AREAS if model in area.tables]
        assert len(owners) == 1, (model.__name__, owners)
    assert len({area.name for area in AREAS}) == len(AREAS)


def contracts_modules() -> list[Any]:
    """Every module of ``contracts``, those of its sub-packages (``contracts.exchange``) too."""
    return [importlib.import_module(m.name) for m in pkgutil.walk_packages(contracts.__path__, "contracts.")]


def test_the_rulebook_lists_every_rule_and_table_contracts_defines() -> None:
    """A ``Rule`` made at module level in ``contracts/`` (a new kind, or a revision) and left
    out of the rulebook would never run: each must be the one listed for its (kind, version).
    Likewise every table a contracts module defines is a projection table."""
    found: dict[tuple[str, int], Rule[Any]] = {}
    defined_tables: set[type] = set()
    for module in contracts_modules():
        for value in vars(module).values():
            if isinstance(value, Rule):
                assert found.setdefault((value.kind, value.version), value) is value
            if (
                isinstance(value, type)
                and issubclass(value, SQLModel)
                and value.__module__ == module.__name__
                and hasattr(value, "__table__")
            ):
                defined_tables.add(value)
    assert len(found) > 30
    for key, r in found.items():
        assert RULEBOOK.rules.get(key) is r, f"{key} is defined in contracts/ but not listed in the rulebook"
    assert found.keys() == RULEBOOK.rules.keys()
    assert defined_tables == set(PROJECTION_MODELS)


# 2. Adoption


@pytest.fixture
def v1() -> Harness:
    """A ledger that adopted no rule version: version 1 is in force."""
    return Harness(rules_version=None)


@pytest.mark.parametrize("signer", ["township", "collective", "developer"])
def test_only_the_root_adopts_a_version(v1: Harness, signer: str) -> None:
    make_org: dict[str, Callable[[], str]] = {
        "township": v1.township,
        "collective": v1.collective,
        "developer": v1.developer,
    }
    actor = make_org[signer]()
    refusal = v1.refused("rules.not_root", actor, "rules.adopted", {"version": 2})
    assert refusal.category == Category.FORBIDDEN
    assert v1.get(RulesInForce, RULES_ROW) is None


@pytest.mark.parametrize("version", [RULEBOOK.current + 1, 99, 10_000])
def test_an_unknown_version(v1: Harness, version: int) -> None:
    v1.refused("rules.unknown_version", COUNTY, "rules.adopted", {"version": version})
    h = Harness()
    h.refused("rules.unknown_version", COUNTY, "rules.adopted", {"version": version})


@pytest.mark.parametrize("payload", [{"version": 0}, {"version": "2"}, {"version": 2, "from": 5}, {}])
def test_a_malformed_adoption(v1: Harness, payload: dict[str, Any]) -> None:
    v1.refused("payload.invalid", COUNTY, "rules.adopted", payload)


def test_a_ledger_never_goes_back_nor_adopts_twice(v1: Harness) -> None:
    v1.refused("rules.not_newer", COUNTY, "rules.adopted", {"version": 1})  # version 1 is in force
    v1.adopt(2)
    for version in (2, 1):
        v1.refused("rules.not_newer", COUNTY, "rules.adopted", {"version": version})
    assert v1.row(RulesInForce, RULES_ROW).version == 2


def test_the_adoption_names_the_version_and_its_seq(v1: Harness) -> None:
    v1.collective()
    assert v1.get(RulesInForce, RULES_ROW) is None
    changes = v1.adopt(2)
    row = changes.one(RulesInForce)
    assert (row.id, row.version, row.adopted_seq) == (RULES_ROW, 2, changes.seq)
    assert changes.seq == v1.size - 1 > 1
    assert v1.row(RulesInForce, RULES_ROW) == row
    v1.collective()
    assert v1.row(RulesInForce, RULES_ROW).adopted_seq == changes.seq  # later records leave it


def test_a_new_harness_adopts_the_current_version_as_record_1() -> None:
    h = Harness()
    assert h.row(RulesInForce, RULES_ROW).model_dump() == {
        "id": 1,
        "version": RULEBOOK.current,
        "adopted_seq": 1,
    }
    assert audit(h).versions_used() == [
        {"version": 1, "from_seq": 0, "to_seq": 0},
        {"version": RULEBOOK.current, "from_seq": 1, "to_seq": 1},
    ]


LATER_KIND = "test.later_kind"
CALENDAR_WITH_A_DAY_TWICE = {
    "year": 2026,
    "holidays": ["2026-10-01", "2026-10-01"],
    "working_weekend_days": [],
}


@pytest.fixture
def later_kind(monkeypatch: pytest.MonkeyPatch) -> Rule[Marker]:
    """A test-only kind that comes with rule version 2 (gone after the test)."""
    r = marker_rule(LATER_KIND, 2)
    monkeypatch.setitem(RULEBOOK.rules, (LATER_KIND, 2), r)
    monkeypatch.setitem(RULEBOOK.kinds(2), LATER_KIND, r)
    return r


def test_a_kind_of_a_later_version_is_not_in_force_before_its_adoption(
    v1: Harness, later_kind: Rule[Marker]
) -> None:
    v1.refused("entry.kind_not_in_force", COUNTY, LATER_KIND, {"n": 1})
    v1.refused("entry.unknown_kind", COUNTY, "test.no_such_kind", {"n": 1})
    v1.adopt(2)
    v1.submit(COUNTY, LATER_KIND, {"n": 1})
    v1.refused("entry.unknown_kind", COUNTY, "test.no_such_kind", {"n": 1})


def test_the_next_version_of_a_rulebook(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rulebook whose next version (after the current one) brings a new kind and revises
    nothing else: the ledger on the current version refuses the kind, adopts the next (not the
    one after), and then admits the kind while every other kind keeps its rule (the version 2
    admission, the version 3 calendar)."""
    current = RULEBOOK.current
    following = current + 1
    book = Rulebook([*AREAS, Area("later", (), (marker_rule(LATER_KIND, following),))])
    monkeypatch.setattr(contracts.rulebook, "RULEBOOK", book)
    monkeypatch.setattr(contracts.engine, "RULEBOOK", book)
    h = Harness()
    village = h.collective()
    h.refused("entry.kind_not_in_force", COUNTY, LATER_KIND, {})
    h.refused("rules.unknown_version", COUNTY, "rules.adopted", {"version": following + 1})
    adoption = h.adopt(following)
    assert h.row(RulesInForce, RULES_ROW).model_dump() == {
        "id": 1,
        "version": following,
        "adopted_seq": adoption.seq,
    }
    h.submit(COUNTY, LATER_KIND, {})
    party = h.person(village)
    h.refused(
        "membership.quorum_not_met",
        village,
        "member.admitted",
        h.admission(village, party, contested=True, votes_for=0, attendance=0),
    )
    h.refused("calendar.duplicate_day", COUNTY, "calendar.declared", CALENDAR_WITH_A_DAY_TWICE)
    assert [u["version"] for u in audit(h).versions_used()] == [1, current, following]


# 3. Each revision: accepted under version 1, refused under version 2, and the log replays


def version_2_refuses(h: Harness, code: str, first: Entry, again: Entry, right: Entry) -> None:
    """``first`` is accepted under version 1; after the adoption of version 2 ``again`` (the
    same entry in the same situation) is refused with ``code`` and ``right`` accepted."""
    assert version_in_force(StagedState(h.replay.memory)) == 1
    h.submit(*first)
    adoption = h.adopt(2).seq
    h.refused(code, *again)
    h.submit(*right)
    assert_replays(h, adoption)


def test_a_contract_to_a_household_without_members(v1: Harness) -> None:
    h = v1
    village = h.collective()
    household, people = h.household(village, 2)  # registered, nobody admitted
    contract = "land.contract_issued"
    first = h.contract_payload(village, household)
    again = h.contract_payload(village, household)
    right = h.contract_payload(village, h.members(village, 1)[0])
    version_2_refuses(
        h,
        REVISED[contract],
        (village, contract, first),
        (village, contract, again),
        (village, contract, right),
    )
    assert h.row(LandContract, first["contract"]).household_id == household  # kept from version 1
    # The same household once a member of it is confirmed.
    h.admit(village, people[0], household)
    h.advance(days=8)
    h.confirm(village, people[0])
    h.submit(village, contract, again)


def test_a_homestead_to_a_household_without_members(v1: Harness) -> None:
    h = v1
    village = h.collective()
    first, again = (h.household(village, 2)[0] for _ in range(2))
    member_household, _ = h.members(village, 1)
    grant = "homestead.granted"
    version_2_refuses(
        h,
        REVISED[grant],
        (village, grant, h.grant_payload(village, first)),
        (village, grant, h.grant_payload(village, again)),
        (village, grant, h.grant_payload(village, member_household)),
    )
    assert sorted(x.household_id for x in h.rows(Homestead)) == sorted([first, member_household])


def settled_household(h: Harness, village: str) -> str:
    """A member household all of whose members settled in town."""
    household, people = h.members(village, 2)
    h.settle(village, household, people)
    return household


def transfer(homestead: str, to: str) -> dict[str, Any]:
    return {"homestead": homestead, "to_household": to, "agreement": DOC}


def test_a_homestead_transfer_to_a_household_settled_in_town(v1: Harness) -> None:
    h = v1
    village = h.collective()
    (_, sold), (_, offered) = h.homestead(village), h.homestead(village)
    settled, other_settled = settled_household(h, village), settled_household(h, village)
    resident, _ = h.members(village, 1)
    kind = "homestead.transferred"
    version_2_refuses(
        h,
        REVISED[kind],
        (village, kind, transfer(sold, settled)),
        (village, kind, transfer(offered, other_settled)),
        (village, kind, transfer(offered, resident)),
    )
    assert h.row(Homestead, sold).household_id == settled
    assert h.row(Homestead, offered).household_id == resident


def quantified_with_an_income_only_heir(h: Harness, village: str) -> tuple[list[str], str]:
    """24 members of 6 households at 120 units each; the last dies and a person who is no
    member inherits: income rights only. Returns (the members, the heir)."""
    members = [party for _, party in h.quantified(village)]
    heir = h.person(village)
    h.submit(village, "member.status_changed", {"party": members[-1], "reason": "death"})
    h.submit(village, "shares.inherited", inheritance(members[-1], heir, 120))
    assert h.row(ShareHolding, village, heir).income_only is True
    return members, heir


def inheritance(deceased: str, heir: str, units: int) -> dict[str, Any]:
    return {"deceased": deceased, "heir": heir, "units": units, "evidence": DOC}


def pledge(pledge_id: str, holder: str, units: int = 10) -> dict[str, Any]:
    return {"pledge": pledge_id, "holder": holder, "units": units, "pledgee": BANK, "contract": DOC}


def test_a_pledge_of_a_holding_with_income_rights_only(v1: Harness) -> None:
    h = v1
    village = h.collective()
    members, heir = quantified_with_an_income_only_heir(h, village)
    kind = "shares.pledged"
    version_2_refuses(
        h,
        REVISED[kind],
        (village, kind, pledge("PL-1", heir)),
        (village, kind, pledge("PL-2", heir)),
        (village, kind, pledge("PL-3", members[0])),
    )
    assert {p.id: p.holder for p in h.rows(SharePledge)} == {"PL-1": heir, "PL-3": members[0]}
    assert h.row(ShareHolding, village, heir).pledged_units == 10
    # What an income-only holding may still do under version 2: be sold to a member.
    h.submit(
        village,
        "shares.transferred",
        {"holder": heir, "to": members[1], "units": 50, "price_fen": 5_000, "agreement": DOC},
    )


def test_an_admission_decided_by_a_meeting_nobody_attended(v1: Harness) -> None:
    h = v1
    village = h.collective()
    first, again = h.person(village), h.person(village)
    kind = "member.admitted"
    nobody: dict[str, Any] = {"contested": True, "votes_for": 0, "attendance": 0}
    version_2_refuses(
        h,
        REVISED[kind],
        (village, kind, h.admission(village, first, **nobody)),
        (village, kind, h.admission(village, again, **nobody)),
        (village, kind, h.admission(village, again, contested=True, votes_for=20, attendance=30)),
    )
    assert h.row(Membership, first).status == h.row(Membership, again).status == "in_notice"


def test_the_deceased_as_their_own_heir(v1: Harness) -> None:
    h = v1
    village = h.collective()
    members = [party for _, party in h.quantified(village)]
    deceased, heir = members[6], members[7]
    h.submit(village, "member.status_changed", {"party": deceased, "reason": "death"})
    kind = "shares.inherited"
    version_2_refuses(
        h,
        REVISED[kind],
        (village, kind, inheritance(deceased, deceased, 60)),
        (village, kind, inheritance(deceased, deceased, 60)),
        (village, kind, inheritance(deceased, heir, 60)),
    )
    held = sum(r.units for r in h.find(ShareHolding, collective_id=village))
    assert held == h.row(ShareScheme, village).total_units + 60  # what version 1 minted stays
    assert (h.row(ShareHolding, village, deceased).units, h.row(ShareHolding, village, heir).units) == (
        120,
        180,
    )


def test_each_revised_kind_is_proven_here() -> None:
    """The six tests above cover exactly the kinds version 2 revises."""
    assert set(REVISED) == {k for k in RULEBOOK.kinds(2) if RULEBOOK.kinds(2)[k] is not RULEBOOK.kinds(1)[k]}


# 4. Edges


def test_an_adoption_inside_a_stream_rules_the_very_next_record(v1: Harness) -> None:
    """Entries signed ahead, then appended in one stream around an adoption: the record right
    after the adoption is admitted under version 2, whenever it was signed."""
    h = v1
    village = h.collective()
    people = [h.person(village) for _ in range(3)]
    nobody: dict[str, Any] = {"contested": True, "votes_for": 0, "attendance": 0}
    start = h.size
    stream = [
        h.sign(village, "member.admitted", h.admission(village, people[0], **nobody)),
        h.sign(COUNTY, "rules.adopted", {"version": 2}),
        h.sign(village, "member.admitted", h.admission(village, people[1], **nobody)),
        h.sign(village, "member.admitted", h.admission(village, people[2], votes_for=30, attendance=40)),
    ]
    for seq, record in zip((start, start + 1, start + 2, start + 2), stream, strict=True):
        record["seq"] = seq  # the refused record takes no seq
    h.apply(stream[0])
    h.apply(stream[1])
    h.refused_record("membership.quorum_not_met", stream[2])
    h.apply(stream[3])
    assert [h.get(Membership, p) is not None for p in people] == [True, False, True]
    assert_replays(h, start + 1)
    # The engine reports each record's version: 1 up to the adoption, 2 after it.
    memory, versions = MemoryReader(), []
    for checked in verified(h.records):
        staged = StagedState(memory)
        versions.append(admit(staged, checked.signed, checked.seq, checked.recorded_at).version)
        memory.apply(staged.drain())
    # (the adoption itself is admitted by the rule in force before it)
    assert versions == [1] * (start + 2) + [2]


def membership_in(h: Harness, village: str, household: str, party: str, status: str) -> None:
    """Bring the household's ``party`` to membership ``status``."""
    h.admit(village, party, household)
    if status in ("suspended", "rejected"):
        h.submit(village, "member.objection_filed", {"party": party, "objection": DOC})
    if status == "rejected":
        h.submit(village, "member.objection_resolved", {"party": party, "upheld": True, "decision": DOC})
    if status == "ended":
        h.advance(days=8)
        h.confirm(village, party)
        h.submit(village, "member.status_changed", {"party": party, "reason": "death"})
    assert h.row(Membership, party).status == status


@pytest.mark.parametrize("status", ["in_notice", "suspended", "rejected", "ended"])
def test_a_membership_not_confirmed_or_over_is_not_in_force(status: str) -> None:
    h = Harness()
    village = h.collective()
    household, people = h.household(village, 1)
    membership_in(h, village, household, people[0], status)
    h.refused(
        "land.household_without_members",
        village,
        "land.contract_issued",
        h.contract_payload(village, household),
    )
    h.refused(
        "homestead.household_without_members",
        village,
        "homestead.granted",
        h.grant_payload(village, household),
    )


def test_a_confirmed_member_is_in_force() -> None:
    h = Harness()
    village = h.collective()
    household, people = h.household(village, 1)
    membership_in(h, village, household, people[0], "in_notice")
    h.advance(days=8)
    h.confirm(village, people[0])
    h.submit(village, "land.contract_issued", h.contract_payload(village, household))
    h.submit(village, "homestead.granted", h.grant_payload(village, household))


def test_a_household_whose_only_member_in_force_settled_in_town() -> None:
    """It keeps the rights of a member household (a contract) but no longer lives in the
    village (no homestead passes to it), until a member of it lives in the village again."""
    h = Harness()
    village = h.collective()
    household, people = h.members(village, 2)
    basis = h.membership_certificate(village, household, people[:1])
    h.submit(
        h.parents[village] or "",
        "certificate.transfer_filed",
        h.filing_payload(village, household, people[:1], basis, scope="individual"),
    )
    h.submit(village, "member.status_changed", {"party": people[1], "reason": "death"})
    assert [h.row(Membership, p).status for p in people] == ["settled_in_town", "ended"]
    h.submit(village, "land.contract_issued", h.contract_payload(village, household))
    _, homestead = h.homestead(village)
    h.refused(
        "homestead.transferee_not_resident", village, "homestead.transferred", transfer(homestead, household)
    )
    # A newborn admitted and confirmed: a member living in the village again.
    child = h.person(village)
    h.submit(
        village,
        "household.member_added",
        {"household": household, "party": child, "relation": "child"},
    )
    membership_in(h, village, household, child, "in_notice")
    h.refused(
        "homestead.transferee_not_resident", village, "homestead.transferred", transfer(homestead, household)
    )
    h.advance(days=8)
    h.confirm(village, child)
    h.submit(village, "homestead.transferred", transfer(homestead, household))
