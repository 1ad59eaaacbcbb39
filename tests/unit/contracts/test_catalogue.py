"""The entry-kind catalogue (``contracts.catalogue``) and its examples (``contracts.examples``),
in memory: an example for every kind in force that decodes under its rule, reads like real data
and is accepted by the rules in a prepared situation (``situations.py``); each kind's published
JSON Schema is valid 2020-12, accepts its example independently of msgspec, and refuses what the
rules' schemas refuse; and the catalogue lists every kind with its rule's version, area,
signers, schema, example and description."""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import msgspec
import pytest

from contracts import examples as ex
from contracts.catalogue import (
    JSON_SCHEMA_DIALECT,
    KindEntry,
    catalogue,
    description,
    kind_entry,
    kind_schema,
    payload_schemas,
    refs_in,
)
from contracts.examples import EXAMPLES, example
from contracts.exchange.bidding import quote_commitment
from contracts.exchange.tables import Listing
from contracts.identifiers import validate_area_code, validate_credit_code, validate_parcel_code
from contracts.rulebook import RULEBOOK
from ledger.entry import RFC3339_UTC, parse_time
from ledger.errors import Category, Rejection
from tests.unit.contracts.situations import prepared

CURRENT = RULEBOOK.current
KINDS = sorted(RULEBOOK.kinds(CURRENT))
Validator = jsonschema.Draft202012Validator


def validator(kind: str) -> Any:
    return Validator(kind_schema(kind), format_checker=Validator.FORMAT_CHECKER)


def msgspec_refuses(kind: str, payload: dict[str, Any]) -> bool:
    rule = RULEBOOK.in_force(kind, CURRENT)
    assert rule is not None
    try:
        rule.decode(payload)
    except Rejection as e:
        assert (e.code, e.category) == ("payload.invalid", Category.INVALID)
        return True
    return False


def jsonschema_refuses(kind: str, payload: dict[str, Any]) -> bool:
    return not validator(kind).is_valid(payload)


# Examples


def test_every_kind_of_every_version_has_an_example() -> None:
    assert set(EXAMPLES) == {kind for kind, _ in RULEBOOK.rules}
    assert set(RULEBOOK.kinds(CURRENT)) <= set(EXAMPLES)


def test_an_example_is_a_fresh_payload_each_time() -> None:
    first = example("household.registered")
    first["members"].clear()
    assert len(example("household.registered")["members"]) == 3


@pytest.mark.parametrize("kind", KINDS)
def test_the_example_decodes_under_its_rule(kind: str) -> None:
    rule = RULEBOOK.in_force(kind, CURRENT)
    assert rule is not None
    assert isinstance(rule.decode(example(kind)), rule.payload_type)


def fields(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (field name, value) in a payload, nested ones too (a list's items by its name)."""
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += [(k, v), *fields(v, k)]
    elif isinstance(value, list):
        for v in value:
            found += [(path, v), *fields(v, path)]
    return found


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
PERSON_FIELDS = {"party", "head", "household", "new_household", "to_household", "holder", "to"}
PERSON_FIELDS |= {"deceased", "heir", "persons", "new_head"}
HASH_FIELDS = {"commitment", "blind_index", "objection", "decision", "evidence", "written_contract"}
HASH_FIELDS |= {"household_consent", "consent", "agreement", "audit_statement", "resolution"}
HASH_FIELDS |= {"application", "bank_reference", "document"}
HASH_FIELDS |= {"holder_consent", "collective_consent", "project_document", "acceptance_document"}
HASH_FIELDS |= {"payment", "approval"}
HASHES_BY_KIND = {("contract", "shares.pledged"), ("contract", "exchange.contract_signed")}
HASHES_BY_KIND |= {("agricultural_capacity", "exchange.bidder_registered")}  # elsewhere a flag
PARCEL_FIELDS = {"code", "plot_code", "parcels", "other_parcels"}
DATE_FIELDS = {"notice_start", "notice_end", "term_start", "term_end", "notice_date", "effective_date"}
DATE_FIELDS |= {"as_of", "scheme_date", "holidays", "working_weekend_days"}
TIME_FIELDS = {"bidding_opens_at", "bidding_closes_at"}


@pytest.mark.parametrize("kind", KINDS)
def test_the_example_reads_like_real_data(kind: str) -> None:
    """Ids are version-4 UUIDs, hashes SHA-256 hex, parcels 19 digits under the village's code,
    codes valid with their check characters, dates real, times RFC 3339 UTC, salts hex, amounts
    and areas integers."""
    for name, value in fields(example(kind)):
        if isinstance(value, (dict, list)):
            continue
        if name in PERSON_FIELDS:
            assert UUID.match(value), (name, value)
        elif name in HASH_FIELDS or (name, kind) in HASHES_BY_KIND:
            assert SHA256.match(value), (name, value)
        elif name == "salt":
            assert re.fullmatch(r"[0-9a-f]{32,128}", value), (name, value)
        elif name in PARCEL_FIELDS or (name in ("east", "south", "west", "north") and value.isdigit()):
            validate_parcel_code(value, ex.VILLAGE_CODE)
        elif name in ("credit_code", "pledgee"):
            validate_credit_code(value)
        elif name == "area_code":
            validate_area_code(value, "village", ex.TOWNSHIP_CODE)
        elif name in DATE_FIELDS:
            assert date.fromisoformat(value).isoformat() == value
        elif name in TIME_FIELDS:
            assert RFC3339_UTC.match(value) and parse_time(value).second == 0, (name, value)
        elif name.endswith(("_fen", "_m2", "units")):
            assert type(value) is int and value >= 0, (name, value)
        assert not isinstance(value, float), (name, value)


def test_the_examples_codes_and_keys_are_what_they_claim() -> None:
    assert validate_credit_code(ex.VILLAGE_CREDIT_CODE).startswith("N2" + ex.COUNTY_CODE)
    assert validate_credit_code(ex.COOPERATIVE_CREDIT_CODE).startswith("93" + ex.COUNTY_CODE)
    assert validate_credit_code(ex.BANK_CREDIT_CODE).startswith("91" + ex.COUNTY_CODE)
    validate_area_code(ex.TOWNSHIP_CODE, "township", ex.COUNTY_CODE)
    assert example("key.revoked")["key_id"] == ex.key_id(ex.VILLAGE_KEY) != ex.key_id(ex.NEW_VILLAGE_KEY)
    scheme = example("shares.quantified")
    assert scheme["total_units"] == 925 and scheme["collective_units"] * 5 == scheme["total_units"]
    assert validate_credit_code(ex.EXCHANGE_CREDIT_CODE).startswith("12" + ex.COUNTY_CODE)


def test_the_calendar_example_is_2026_as_declared() -> None:
    """Holidays in 2026 (33 days off in seven holidays), and the days worked instead all fall on
    a Saturday or Sunday next to a holiday."""
    calendar = example("calendar.declared")
    holidays = [date.fromisoformat(d) for d in calendar["holidays"]]
    worked = [date.fromisoformat(d) for d in calendar["working_weekend_days"]]
    assert len(holidays) == len(set(holidays)) == 33 and {d.year for d in holidays + worked} == {2026}
    assert all(d.weekday() >= 5 for d in worked) and not set(worked) & set(holidays)
    assert date(2026, 6, 19) in holidays  # the Dragon Boat Festival, which the contract deadline skips


def test_the_exchange_examples_add_up() -> None:
    """The listing's deposit is within the county's 10-60 % of the deal at the reserve; the deal
    at 900 yuan is the price × 亩 × years; the payment is the deal less the winner's deposit plus
    the buyer's fee at the first tier's 1.3 %; the sealed quote's commitment is the one its
    opening gives."""
    listing = example("exchange.listed")
    contract = example("land.contract_issued")
    area_m2: int = sum(p["area_m2"] for p in contract["parcels"] if p["code"] in listing["right"]["parcels"])
    assert area_m2 == 2201 and listing["right"]["contract"] == contract["contract"]
    years = 10
    assert date.fromisoformat(listing["right"]["term_end"]) == date(2036, 6, 30)

    def deal(price_fen: int) -> int:  # fen per 亩 per year × m² × 15 / 10,000 × years
        return price_fen * area_m2 * 15 * years // 10_000

    assert (
        10 * deal(listing["reserve_fen"]) <= 100 * listing["deposit_fen"] <= 60 * deal(listing["reserve_fen"])
    )
    award = example("exchange.awarded")
    assert award["amount_fen"] == example("exchange.bid")["amount_fen"] == ex.WINNING_FEN
    assert deal(award["amount_fen"]) == ex.DEAL_FEN
    assert ex.BUYER_FEE_FEN == (ex.DEAL_FEN * 130 + 5_000) // 10_000
    paid = example("exchange.payment_confirmed")["amount_fen"]
    assert paid == ex.DEAL_FEN - example("exchange.deposit_received")["amount_fen"] + ex.BUYER_FEE_FEN
    opened = example("exchange.quote_opened")
    assert example("exchange.quote_sealed") == {
        "listing": opened["listing"],
        "bidder": opened["bidder"],
        "commitment": quote_commitment(
            opened["listing"], opened["bidder"], opened["amount_fen"], opened["salt"]
        ),
    }


@pytest.mark.parametrize("kind", KINDS)
def test_the_example_is_accepted_in_its_prepared_situation(kind: str) -> None:
    s = prepared(kind)
    changes = s.example()
    assert changes, f"{kind}'s example changed nothing"


def test_the_listings_deadlines_follow_the_declared_calendar() -> None:
    """Listed on Monday 1 June, the announcement runs seven working days to 10 June; awarded on
    16 June, the contract is due three working days later, on 22 June, and the refunds five, on
    24 June: the Dragon Boat Festival (19 June) is no working day."""
    s = prepared("exchange.contract_signed")
    listing = s.h.row(Listing, ex.LISTING)
    assert (listing.listed_on, listing.announce_ends) == (date(2026, 6, 1), date(2026, 6, 10))
    assert (listing.awarded_on, listing.contract_due) == (date(2026, 6, 16), date(2026, 6, 22))
    assert listing.refunds_due == date(2026, 6, 24)
    assert (listing.winner, listing.price_fen, listing.value_fen) == (
        ex.NEIGHBOUR_BIDDER,
        ex.WINNING_FEN,
        ex.DEAL_FEN,
    )
    assert (listing.buyer_fee_fen, listing.seller_fee_fen) == (
        ex.BUYER_FEE_FEN,
        0,
    )  # a member household sells


# Schemas


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_publishes_a_valid_json_schema_2020_12(kind: str) -> None:
    schema = kind_schema(kind)
    assert schema["$schema"] == JSON_SCHEMA_DIALECT and schema["title"] == kind
    Validator.check_schema(schema)
    assert set(refs_in(schema)) == set(schema["$defs"]), "every definition is used, every reference defined"


@pytest.mark.parametrize("kind", KINDS)
def test_the_example_validates_against_its_published_schema(kind: str) -> None:
    errors = [e.message for e in validator(kind).iter_errors(example(kind))]
    assert not errors


def test_the_schemas_share_one_set_of_definitions() -> None:
    schemas = payload_schemas()
    assert schemas.version == CURRENT and list(schemas.kinds) == [e.kind for e in catalogue()]
    for kind, ref in schemas.kinds.items():
        assert kind_schema(kind)["$ref"] == ref["$ref"]
        assert kind_schema(kind)["$defs"].items() <= schemas.defs.items()
    Validator.check_schema({"$schema": JSON_SCHEMA_DIALECT, "$defs": schemas.defs})


def wrong(kind: str, **changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(example(kind))
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        target: Any = payload
        for step in path:
            target = target[int(step)] if step.isdigit() else target[step]
        target[last] = value
    return payload


WRONG = {
    "an unknown field": ("household.registered", wrong("household.registered", remark="户主已签字")),
    "an unknown nested field": (
        "land.contract_issued",
        wrong("land.contract_issued", parcels__0__boundaries__northeast="road"),
    ),
    "a float amount": ("homestead.withdrawn", wrong("homestead.withdrawn", compensation_fen=468_000.5)),
    "a float area": ("homestead.granted", wrong("homestead.granted", area_m2=180.5)),
    "an amount as a string": ("dividend.declared", wrong("dividend.declared", amount_fen="13020000")),
    "a negative amount": ("shares.transferred", wrong("shares.transferred", price_fen=-1)),
    "a party id that is no UUID": ("member.confirmed", {"party": "王建国"}),
    "an upper-case document hash": (
        "member.objection_filed",
        wrong("member.objection_filed", objection=ex.document_hash("x").upper()),
    ),
    "a boundary in free text": (
        "land.contract_issued",
        wrong("land.contract_issued", parcels__0__boundaries__east="张三家的地"),
    ),
    "a certificate number in free text": (
        "homestead.granted",
        wrong("homestead.granted", certificate_no="宅基地证 第45号"),
    ),
    "a revocation reason outside the list": ("key.revoked", wrong("key.revoked", reason="forgot it")),
    "a missing field": ("land.returned", {"contract": ex.CONTRACT, "notice_date": "2026-03-10"}),
    "an empty member list": ("household.registered", wrong("household.registered", members=[])),
    "a transferee of no known type": (
        "land.management_transferred",
        wrong("land.management_transferred", transferee={"type": "person", "party": ex.SON}),
    ),
    "a date that is no calendar date": ("land.returned", wrong("land.returned", effective_date="2026-02-30")),
    "a holiday that is no calendar date": (
        "calendar.declared",
        wrong("calendar.declared", holidays=["2026-02-30"]),
    ),
    "a right of no known type (collective land ownership is never listed)": (
        "exchange.listed",
        wrong("exchange.listed", right={"type": "collective_land", "collective": ex.VILLAGE}),
    ),
    "a bidding time in local time": (
        "exchange.listed",
        wrong("exchange.listed", bidding_opens_at="2026-06-16T09:00:00+08:00"),
    ),
    "a float bid": ("exchange.bid", wrong("exchange.bid", amount_fen=90_000.5)),
    "a bidder number of zero": ("exchange.deposit_received", wrong("exchange.deposit_received", bidder=0)),
    "an upper-case salt": (
        "exchange.quote_opened",
        wrong("exchange.quote_opened", salt=ex.QUOTE_SALT.upper()),
    ),
    "a forfeit reason outside the list": (
        "exchange.defaulted",
        wrong("exchange.defaulted", reason="changed_mind"),
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG))
def test_a_wrong_payload_is_refused_by_both_the_rules_and_the_published_schema(case: str) -> None:
    kind, payload = WRONG[case]
    assert msgspec_refuses(kind, payload), f"the rule's schema accepts {case}"
    assert jsonschema_refuses(kind, payload), f"the published schema accepts {case}"


def test_an_integral_float_is_refused_by_the_rules_though_json_schema_counts_it_an_integer() -> None:
    """JSON Schema's data model has one number type, so 46800000.0 is an "integer" to it; the
    rules refuse any float (payloads carry none). A client's own schema check cannot catch it."""
    payload = wrong("homestead.withdrawn", compensation_fen=46_800_000.0)
    assert msgspec_refuses("homestead.withdrawn", payload)
    assert not jsonschema_refuses("homestead.withdrawn", payload)


def test_a_control_character_is_refused_by_the_rules_only() -> None:
    """The refusal of control characters in every string is the rules' own check, not the schema's."""
    payload = wrong("land.management_transferred", transferee__name="合作社\x07")
    assert msgspec_refuses("land.management_transferred", payload)
    assert not jsonschema_refuses("land.management_transferred", payload)


# The catalogue


def test_the_catalogue_lists_every_kind_in_force_once_in_the_rulebooks_order() -> None:
    entries = catalogue()
    assert sorted(e.kind for e in entries) == KINDS
    listed = [r.kind for area in RULEBOOK.areas for r in area.rules]
    assert [e.kind for e in entries] == list(dict.fromkeys(listed))


@pytest.mark.parametrize("kind", KINDS)
def test_a_kinds_entry_gives_its_rule_area_signers_schema_example_and_description(kind: str) -> None:
    rule = RULEBOOK.in_force(kind, CURRENT)
    assert rule is not None
    entry = kind_entry(kind)
    [area] = [a.name for a in RULEBOOK.areas if rule in a.rules]
    assert (entry.kind, entry.version, entry.area, entry.signed_by) == (
        kind,
        rule.version,
        area,
        rule.signed_by,
    )
    assert entry.schema == kind_schema(kind) and entry.example == example(kind)
    assert entry.description == description(kind)
    assert entry in catalogue()


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_described_in_one_line_of_what_it_records(kind: str) -> None:
    text = description(kind)
    assert text and "\n" not in text and len(text) <= 200
    assert not text.startswith("Version"), "a revision's docstring says what changed, not what it records"


def test_the_catalogue_of_version_1_gives_the_version_1_rules() -> None:
    v1 = {e.kind: e for e in catalogue(1)}
    assert set(v1) == set(RULEBOOK.kinds(1))
    assert v1["shares.pledged"].version == 1 and kind_entry("shares.pledged").version == 3
    assert {e.kind: e for e in catalogue(2)}["shares.pledged"].version == 2


def test_the_catalogue_encodes_as_json_and_decodes_to_the_same_entries() -> None:
    entries = catalogue()
    text = msgspec.json.encode(entries)
    assert msgspec.json.decode(text, type=list[KindEntry]) == entries
    first = msgspec.json.decode(text)[0]
    assert first["signed_by"] == {"types": ["county"], "role": "the root organisation"}


def test_a_caller_changing_one_entry_changes_no_other() -> None:
    entries = catalogue()
    defs = entries[0].schema["$defs"]
    next(iter(defs.values()))["title"] = "CHANGED BY A CALLER"
    assert catalogue() == [kind_entry(e.kind) for e in catalogue()]
    assert all("CHANGED BY A CALLER" not in repr(e.schema) for e in entries[1:])


def test_an_unknown_kind_or_version_is_not_found() -> None:
    for call, code in (
        (lambda: kind_entry("land.sold"), "entry.unknown_kind"),
        (lambda: kind_schema("land.sold"), "entry.unknown_kind"),
        (lambda: catalogue(CURRENT + 1), "rules.unknown_version"),
        (lambda: catalogue(0), "rules.unknown_version"),
    ):
        with pytest.raises(Rejection) as caught:
            call()
        assert (caught.value.code, caught.value.category) == (code, Category.NOT_FOUND)
