"""The entry-kind catalogue: what a client needs to write an entry of each kind in force.

For every kind in force under a rule version: the version of its rule, its area, who may sign
it (``Rule.signed_by``), the JSON Schema (2020-12) of its payload, an example payload
(``contracts.examples``) and a one-line description (the first paragraph of its first rule's
docstring, else of its payload's). Pure: built from the rulebook on each call, no I/O; for the
service's ``GET /v1/kinds`` and the command ``rural-ledger kinds`` to serve.

The schemas are msgspec's, generated from the payload types the rules decode with, so they
cannot drift from them. They say less than the rules check: the JSON Schema cannot tell the
integer 100 from 100.0 (the rules refuse a float), and identifiers' check characters, control
characters in strings and every rule about the ledger's state are the rules' alone.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterator
from typing import Any

import msgspec

from contracts.examples import example
from contracts.registry import Rule, Signers
from contracts.rulebook import RULEBOOK
from ledger.errors import Category, Rejection

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
DEFS = "$defs"
REF_PREFIX = f"#/{DEFS}/"

Schema = dict[str, Any]


class PayloadSchemas(msgspec.Struct, frozen=True, kw_only=True):
    """Every payload schema of one rule version: per kind a ``$ref`` into the shared ``defs``
    (one definition per payload type and per nested type)."""

    version: int
    kinds: dict[str, Schema]
    defs: dict[str, Schema]


class KindEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One kind of the catalogue. ``schema`` is a complete JSON Schema document (with the
    definitions it refers to); ``version`` is the version of the kind's rule in force."""

    kind: str
    version: int
    area: str
    signed_by: Signers
    description: str
    schema: Schema
    example: dict[str, Any]


def rules_in_force(version: int) -> dict[str, Rule[Any]]:
    """The kinds in force under ``version``, in the rulebook's order (area by area); a
    ``not_found`` rejection for a version the rulebook does not have."""
    if version not in RULEBOOK.versions:
        raise Rejection(
            "rules.unknown_version",
            f"no rule version {version}; this rulebook has versions {list(RULEBOOK.versions)}",
            category=Category.NOT_FOUND,
        )
    in_force = RULEBOOK.kinds(version)
    ordered = (r.kind for area in RULEBOOK.areas for r in area.rules if r.kind in in_force)
    return {kind: in_force[kind] for kind in dict.fromkeys(ordered)}


def rule_of(kind: str, version: int) -> Rule[Any]:
    """The rule in force for ``kind`` under ``version``; a ``not_found`` rejection otherwise."""
    found = rules_in_force(version).get(kind)
    if found is not None:
        return found
    first = RULEBOOK.first_version(kind)
    if first is None:
        raise Rejection("entry.unknown_kind", f"no entry kind {kind!r}", category=Category.NOT_FOUND)
    raise Rejection(
        "entry.kind_not_in_force",
        f"entry kind {kind!r} comes with rule version {first}, not in force under version {version}",
        category=Category.NOT_FOUND,
    )


def payload_schemas(version: int = RULEBOOK.current) -> PayloadSchemas:
    """The payload schemas of every kind in force under ``version``, sharing one ``$defs``."""
    rules = rules_in_force(version)
    types = list(dict.fromkeys(r.payload_type for r in rules.values()))
    refs, defs = msgspec.json.schema_components(types, ref_template=REF_PREFIX + "{name}")
    by_type = dict(zip(types, refs, strict=True))
    return PayloadSchemas(
        version=version, kinds={kind: dict(by_type[r.payload_type]) for kind, r in rules.items()}, defs=defs
    )


def kind_schema(kind: str, version: int = RULEBOOK.current) -> Schema:
    """The JSON Schema (2020-12) of ``kind``'s payload as one document: its reference and the
    definitions reachable from it."""
    rule_of(kind, version)
    schemas = payload_schemas(version)
    return _standalone(kind, schemas.kinds[kind], schemas.defs)


def _standalone(title: str, schema: Schema, defs: dict[str, Schema]) -> Schema:
    reachable: dict[str, Schema] = {}
    pending = list(refs_in(schema))
    while pending:
        name = pending.pop()
        if name not in reachable:
            reachable[name] = defs[name]
            pending.extend(refs_in(defs[name]))
    document = {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": title,
        **schema,
        DEFS: dict(sorted(reachable.items())),
    }
    return copy.deepcopy(document)  # no two documents share a definition a caller might change


def refs_in(value: Any) -> Iterator[str]:
    """The names of the definitions ``value`` refers to (``{"$ref": "#/$defs/NAME"}``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith(REF_PREFIX):
                yield item.removeprefix(REF_PREFIX)
            else:
                yield from refs_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs_in(item)


def description(kind: str) -> str:
    """What an entry of ``kind`` records, in one line: the first paragraph of the docstring of
    the kind's first rule (a later version's docstring says what it changed), else of its
    payload type; empty when neither has one."""
    first = RULEBOOK.first_version(kind)
    if first is None:
        return ""
    rule = RULEBOOK.rules[(kind, first)]
    for doc in (rule.apply.__doc__, rule.payload_type.__doc__):
        if doc:
            return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())
    return ""


def _area_of(rule: Rule[Any]) -> str:
    return next(area.name for area in RULEBOOK.areas if rule in area.rules)


def kind_entry(kind: str, version: int = RULEBOOK.current) -> KindEntry:
    """The catalogue's entry for ``kind`` under ``version``."""
    rule = rule_of(kind, version)
    return _entry_for(rule, kind_schema(kind, version))


def _entry_for(rule: Rule[Any], schema: Schema) -> KindEntry:
    if rule.signed_by is None:
        raise RuntimeError(f"{rule.kind} version {rule.version} does not declare who signs it")
    return KindEntry(
        kind=rule.kind,
        version=rule.version,
        area=_area_of(rule),
        signed_by=rule.signed_by,
        description=description(rule.kind),
        schema=schema,
        example=example(rule.kind),
    )


def catalogue(version: int = RULEBOOK.current) -> list[KindEntry]:
    """Every kind in force under ``version``, in the rulebook's order."""
    schemas = payload_schemas(version)
    return [
        _entry_for(rule, _standalone(kind, schemas.kinds[kind], schemas.defs))
        for kind, rule in rules_in_force(version).items()
    ]
