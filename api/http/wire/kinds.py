"""The entry-kind catalogue: what each kind in force must contain, who signs it, an example."""

from __future__ import annotations

from typing import Any

import msgspec


class KindSigners(msgspec.Struct, forbid_unknown_fields=True):
    """Who may sign the kind: organisation types, and which organisation of those types."""

    types: list[str]
    role: str


class Kind(msgspec.Struct, forbid_unknown_fields=True):
    """One entry kind in force: the version of its rule, its area of the rules, its signers, what
    it records, its payload's JSON Schema (2020-12, one document) and a valid example payload."""

    kind: str
    version: int
    area: str
    signed_by: KindSigners
    description: str
    schema: dict[str, Any]
    example: dict[str, Any]


class KindCatalogue(msgspec.Struct, forbid_unknown_fields=True):
    """Every kind in force under the ledger's rule version, in the rulebook's order.
    ``rules_adopted_seq`` is the ``rules.adopted`` record that put the version in force (null:
    version 1 since genesis)."""

    rules_version: int
    rules_adopted_seq: int | None
    kinds: list[Kind]
