"""Rows built by ``contracts.state.construct`` (what ``make`` and the SQL reader use) are the
objects ``model_construct`` builds, for every projection table: the same values in the same
field order, the same fields set, defaults made fresh where pydantic makes them fresh, names
that are not fields (a table's ``ledger_id``) ignored."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlmodel import Field, SQLModel

from contracts.rulebook import PROJECTION_MODELS
from contracts.state import construct, construct_many, key_of, make, primary_key_columns, values_of

SAMPLES: dict[str, Any] = {
    "<class 'str'>": "text",
    "<class 'int'>": 7,
    "<class 'bool'>": True,
    "<class 'datetime.date'>": date(2024, 5, 1),
    "str | None": "maybe",
    "int | None": 9,
    "datetime.date | None": date(2025, 1, 2),
    "list[str]": ["a", "b"],
    "list[typing.Any]": [1, "x"],
    "dict[str, typing.Any]": {"k": [1, 2]},
    "dict[str, list[int]]": {"k": [3]},
}


def sample(model: type[SQLModel], name: str) -> Any:
    annotation = str(model.model_fields[name].annotation)
    assert annotation in SAMPLES, f"{model.__name__}.{name}: no sample for {annotation}"
    return SAMPLES[annotation]


def assert_same_row(built: SQLModel, reference: SQLModel) -> None:
    assert type(built) is type(reference)
    assert list(built.__dict__.items()) == list(reference.__dict__.items())
    assert built.__pydantic_fields_set__ == reference.__pydantic_fields_set__
    assert built.__pydantic_extra__ == reference.__pydantic_extra__
    assert built.__pydantic_private__ == reference.__pydantic_private__
    assert built.model_dump() == reference.model_dump()
    assert list(values_of(built).items()) == list(reference.model_dump().items())
    assert built == reference


@pytest.mark.parametrize("model", PROJECTION_MODELS, ids=lambda m: m.__name__)
def test_every_table_row_is_the_one_model_construct_builds(model: type[SQLModel]) -> None:
    every = {name: sample(model, name) for name in model.model_fields}
    required = {name: every[name] for name, f in model.model_fields.items() if f.is_required()}
    for values in (every, required, {**every, "ledger_id": 3}, {**required, "ledger_id": 3}):
        assert_same_row(construct(model, dict(values)), model.model_construct(**values))
    assert_same_row(make(model, **every), model.model_construct(**every))
    assert_same_row(make(model, **required), model.model_construct(**required))


class Mutable(SQLModel):  # not a table: the tests' models stay out of the schema
    id: int
    tags: list[str] = Field(default_factory=list)
    flags: list[int] = Field(default=[1])


def test_defaults_that_pydantic_makes_fresh_are_made_fresh() -> None:
    first, second = make(Mutable, id=1), make(Mutable, id=2)
    assert_same_row(first, Mutable.model_construct(id=1))
    assert first.tags == [] and first.flags == [1]
    assert first.tags is not second.tags and first.flags is not second.flags


class Aliased(SQLModel):
    name: str = Field(alias="label")


def test_a_model_with_an_alias_is_left_to_model_construct() -> None:
    assert_same_row(construct(Aliased, {"label": "x"}), Aliased.model_construct(label="x"))
    assert construct(Aliased, {"label": "x"}).name == "x"


def test_make_refuses_unknown_and_missing_fields() -> None:
    with pytest.raises(TypeError, match=r"missing \['id'\], unknown \['nope'\]"):
        make(Mutable, nope=1)


def test_the_values_of_a_row_are_its_model_dump_also_after_a_copy() -> None:
    for model in PROJECTION_MODELS:
        row = make(model, **{name: sample(model, name) for name in model.model_fields})
        name = next(iter(model.model_fields))
        for copy in (row, row.model_copy(update={name: sample(model, name)})):
            assert list(values_of(copy).items()) == list(copy.model_dump().items())


@pytest.mark.parametrize("model", PROJECTION_MODELS, ids=lambda m: m.__name__)
def test_rows_from_a_querys_columns_are_the_rows_construct_builds(model: type[SQLModel]) -> None:
    every = {name: sample(model, name) for name in model.model_fields}
    names = ["ledger_id", *reversed(list(every))]  # a query's order, with a column not a field
    rows = [(3, *reversed(list(every.values()))), (4, *reversed(list(every.values())))]
    built = construct_many(model, names, rows)
    assert len(built) == 2
    for one, row in zip(built, rows, strict=True):
        assert_same_row(one, construct(model, dict(zip(names, row, strict=True))))
    assert built[0].__dict__ is not built[1].__dict__
    assert built[0].__pydantic_fields_set__ is not built[1].__pydantic_fields_set__
    # A query that lacks a field: each row as construct makes it, the default filled in.
    optional = [n for n, f in model.model_fields.items() if not f.is_required()]
    if optional:
        short = [n for n in names if n != optional[0]]
        values = [3, *(every[n] for n in short[1:])]
        assert_same_row(
            construct_many(model, short, [values])[0], construct(model, dict(zip(short, values, strict=True)))
        )


@pytest.mark.parametrize("model", PROJECTION_MODELS, ids=lambda m: m.__name__)
def test_the_key_of_a_row_is_its_primary_key_columns_values(model: type[SQLModel]) -> None:
    row = make(model, **{name: sample(model, name) for name in model.model_fields})
    assert key_of(row) == tuple(getattr(row, c) for c in primary_key_columns(model))
    assert type(key_of(row)) is tuple
