"""``RowHasher`` gives every row the bucket and hash ``DigestBuilder.add`` gives it, for every
projection model and for the column types the normalisation treats apart; the digest folded
from hashes added one by one (``add_hash``) is the digest of the rows."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Date, DateTime, Float, LargeBinary, Numeric, Time, Uuid
from sqlmodel import Field, SQLModel

from contracts.digest import DigestBuilder, RowHasher, RowNormaliser, bucket_of
from contracts.rulebook import PROJECTION_MODELS
from contracts.state import make

SAMPLES: dict[str, list[Any]] = {
    "Date": [date(2026, 3, 1), None],
    "BigInteger": [7, 2**40, -3, None],
    "Integer": [7, 0, None],
    "Boolean": [True, False, None],
    "JSONB": [{"a": [1, "b"]}, [], {"中文": {"x": None}}, None],
}


def rows_of(model: type[SQLModel]) -> list[SQLModel]:
    """A few rows of ``model``, each column given one of its samples in turn."""
    columns = list(model.__table__.columns)  # type: ignore[attr-defined]
    rows = []
    for i in range(4):
        values = {}
        for column in columns:
            samples = SAMPLES.get(type(column.type).__name__, [f"text-{i}", "名称 \U0001f600", "", None])
            value = samples[i % len(samples)]
            if value is None and (column.primary_key or not column.nullable):
                value = samples[0]
            values[column.name] = value
        rows.append(model.model_construct(**values))
    return rows


def expected(model: type[SQLModel], row: SQLModel) -> tuple[int, bytes]:
    normaliser = RowNormaliser(model)
    values = normaliser.values(row)
    key = normaliser.key(values)
    return bucket_of(key), normaliser.row_hash(key, values)


@pytest.mark.parametrize("model", PROJECTION_MODELS, ids=lambda m: m.__table__.name)
def test_every_projection_row_hashes_as_the_digest_builder_hashes_it(model: type[SQLModel]) -> None:
    hasher = RowHasher(model)
    builder, folded = DigestBuilder([model]), DigestBuilder([model])
    for row in rows_of(model):
        assert hasher.bucket_and_hash(row) == expected(model, row)
        builder.add(model, row)
        folded.add_hash(model, *hasher.bucket_and_hash(row))
    assert folded.finish() == builder.finish()


class Colour(enum.Enum):
    RED = "red"


class Typed(SQLModel, table=True):
    """Every column type the normalisation treats apart (a table only for these tests)."""

    __tablename__ = "digest_hasher_typed"
    id: int = Field(primary_key=True)
    at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    day: date | None = Field(default=None, sa_column=Column(Date))
    moment: time | None = Field(default=None, sa_column=Column(Time))
    blob: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    ident: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid))
    ratio: float | None = Field(default=None, sa_column=Column(Float))
    amount: Decimal | None = Field(default=None, sa_column=Column(Numeric))
    doc: Any = Field(default=None, sa_column=Column(JSON))
    colour: str | None = None


@pytest.mark.parametrize(
    "values",
    [
        {
            "at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
            "day": date(2026, 1, 2),
            "moment": time(3, 4, 5),
            "blob": b"\x00\xff",
            "ident": uuid.UUID(int=5),
            "ratio": 0.5,
            "amount": Decimal("10.500"),
            "doc": {"b": (1, 2), "a": None},
            "colour": Colour.RED,
        },
        {"at": "2026-01-02T03:04:05.000006Z", "day": "2026-01-02", "ident": str(uuid.UUID(int=5))},
        {"day": datetime(2026, 1, 2, 3, tzinfo=UTC), "amount": 3, "ratio": 2},
        {},
    ],
    ids=["typed", "as-text", "odd", "nulls"],
)
def test_columns_treated_apart_hash_as_the_digest_builder_hashes_them(values: dict[str, Any]) -> None:
    row = make(Typed, id=1, **values)
    assert RowHasher(Typed).bucket_and_hash(row) == expected(Typed, row)
