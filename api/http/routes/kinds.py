"""The entry-kind catalogue: what each kind in force must contain, who signs it, an example."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from litestar import Controller, get
from litestar.params import PathParameter

from api.http.dependencies import Db
from api.http.wire.kinds import Kind, KindCatalogue, KindSigners
from api.reads.policy import rules_version
from contracts.catalogue import KindEntry, catalogue, rule_of

KindName = Annotated[str, PathParameter(min_length=1, max_length=100, description="an entry kind")]


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
