"""The entry-kind catalogue: what each kind in force must contain, who signs it, an example."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.params import PathParameter

from api.http.dependencies import Db
from api.reads.policy import rules_version
from contracts.catalogue import KindEntry, catalogue, rule_of

KindName = Annotated[str, PathParameter(min_length=1, max_length=100, description="an entry kind")]


class KindSigners(msgspec.Struct, frozen=True, kw_only=True):
    """Who may sign the kind: organisation types, and which organisation of those types."""

    types: list[str]
    role: str


class Kind(msgspec.Struct, frozen=True, kw_only=True):
    """One entry kind in force: the version of its rule, its area of the rules, its signers, what
    it records, its payload's JSON Schema (2020-12, one document) and a valid example payload."""

    kind: str
    version: int
    area: str
    signed_by: KindSigners
    description: str
    schema: dict[str, Any]
    example: dict[str, Any]


class KindCatalogue(msgspec.Struct, frozen=True, kw_only=True):
    """Every kind in force under the ledger's rule version, in the rulebook's order.
    ``rules_adopted_seq`` is the ``rules.adopted`` record that put the version in force (null:
    version 1 since genesis)."""

    rules_version: int
    rules_adopted_seq: int | None
    kinds: list[Kind]


def kind_out(entry: KindEntry) -> Kind:
    return Kind(
        kind=entry.kind,
        version=entry.version,
        area=entry.area,
        signed_by=KindSigners(types=list(entry.signed_by.types), role=entry.signed_by.role),
        description=entry.description,
        schema=entry.schema,
        example=entry.example,
    )


@lru_cache(maxsize=8)
def kinds_in_force(version: int) -> dict[str, Kind]:
    """The catalogue of ``version`` (pure, so built once per version and process)."""
    return {entry.kind: kind_out(entry) for entry in catalogue(version)}


class KindController(Controller):
    path = "/v1/kinds"
    tags = ["kinds"]

    @get("/", operation_id="listKinds", summary="Every entry kind in force, with its payload schema")
    async def list_kinds(self, db: Db) -> KindCatalogue:
        rules = await db.run_sync(rules_version)
        return KindCatalogue(
            rules_version=rules.version,
            rules_adopted_seq=rules.adopted_seq,
            kinds=list(kinds_in_force(rules.version).values()),
        )

    @get("/{kind:str}", operation_id="getKind", summary="One entry kind in force")
    async def get_kind(self, db: Db, kind: KindName) -> Kind:
        version = (await db.run_sync(rules_version)).version
        kinds = kinds_in_force(version)
        if kind not in kinds:
            rule_of(kind, version)  # raises the not-found refusal that says why
        return kinds[kind]
