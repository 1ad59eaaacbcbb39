"""The state digest: independent of row order, equal across backends' value types, and able to
name the table, key and column that differ; for every projection model."""

from __future__ import annotations

import random
from datetime import date

import pytest

from contracts.digest import (
    DigestBuilder,
    RowNormaliser,
    bucket_of,
    bucket_rows,
    first_row_difference,
    first_table_difference,
    row_from_values,
)
from contracts.orgs import Org, OrgKey
from contracts.rulebook import PROJECTION_MODELS
from contracts.state import make


def orgs(n: int) -> list[Org]:
    return [
        make(Org, id=f"org-{i}", name=f"名称{i}", type="township", parent_id="county", registered_seq=i)
        for i in range(n)
    ]


def test_digest_does_not_depend_on_row_order() -> None:
    rows = orgs(50)
    a, b = DigestBuilder([Org]), DigestBuilder([Org])
    a.add_all(Org, rows)
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    b.add_all(Org, shuffled)
    assert a.finish() == b.finish()


def test_a_database_mapping_and_a_model_row_digest_alike() -> None:
    row = orgs(1)[0]
    from_db = {c: getattr(row, c) for c in Org.model_fields}
    a, b = DigestBuilder([Org]), DigestBuilder([Org])
    a.add(Org, row)
    b.add(Org, from_db)
    assert a.finish().digest == b.finish().digest


def test_one_changed_column_changes_the_table_digest_only() -> None:
    rows = orgs(10)
    key = make(OrgKey, key_id="k1", org_id="org-1", public_key="x", added_seq=1)
    a, b = DigestBuilder([Org, OrgKey]), DigestBuilder([Org, OrgKey])
    a.add_all(Org, rows)
    b.add_all(Org, [*rows[:3], rows[3].model_copy(update={"name": "changed"}), *rows[4:]])
    a.add(OrgKey, key)
    b.add(OrgKey, key)
    mine, theirs = a.finish(), b.finish()
    assert mine.tables["org_keys"] == theirs.tables["org_keys"]
    assert first_table_difference(mine, theirs.as_json()) == "orgs"
    bucket = bucket_of(["org-3"])
    changed = [*rows[:3], rows[3].model_copy(update={"name": "changed"}), *rows[4:]]
    server = [r.as_json() for r in bucket_rows(Org, changed, bucket)]
    diff = first_row_difference("orgs", bucket_rows(Org, rows, bucket), server)
    assert diff is not None and diff.key == ["org-3"] and "name" in diff.reason


@pytest.mark.parametrize("model", PROJECTION_MODELS, ids=lambda m: m.__table__.name)
def test_every_projection_model_normalises_and_restores(model: type) -> None:
    normaliser = RowNormaliser(model)
    values = {}
    for column in model.__table__.columns:
        kind = type(column.type).__name__
        values[column.name] = {
            "Date": date(2026, 3, 1),
            "BigInteger": 7,
            "Integer": 7,
            "Boolean": True,
            "JSONB": {"a": [1, "b"]},
        }.get(kind, "text")
    normal = normaliser.values(values)
    restored = row_from_values(model, normal)
    assert normaliser.values(restored) == normal
    assert normaliser.key(normal)
