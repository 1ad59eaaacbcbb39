"""A digest of the projection state that does not depend on row order.

The verifier computes it over the state it replayed in memory; the service over its projection
tables. Equal digests mean equal state. When they differ, the two sides narrow it down without
sending whole tables: table digests name the table, bucket digests the bucket, and the rows of
one bucket the key and the columns.

Definitions (hashes are SHA-256; ``JCS`` is RFC 8785):

- a row's values are normalised per column type (``normal_value``), so that what a driver
  returns (a ``datetime``, a ``UUID``, ``bytes``) and what a rule built in memory digest alike;
- row hash = H(JCS([table, key, values])), key = the primary-key values in column order;
- bucket of a row = first byte of H(JCS(key)): 256 buckets per table;
- bucket digest = H(the bucket's row hashes, sorted, concatenated);
- table digest = H(table name, "\\n", row count, "\\n", the 256 bucket digests);
- state digest = H(the lines "<table> <hex table digest>\\n", sorted by table name).

Works for any SQLModel table model: it reads only ``__table__``'s columns and primary key.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import JSON, Date, DateTime, Float, LargeBinary, Numeric, Time, Uuid
from sqlmodel import SQLModel

from ledger.canonical import canonical_bytes
from ledger.entry import format_time, parse_time

BUCKETS = 256
Values = dict[str, Any]


def table_name(model: type[SQLModel]) -> str:
    return str(model.__table__.name)  # type: ignore[attr-defined]


def _columns(model: type[SQLModel]) -> list[Any]:
    return list(model.__table__.columns)  # type: ignore[attr-defined]


def normal_value(column_type: Any, value: Any) -> Any:
    """``value`` as plain JSON, the same whichever backend produced it."""
    if value is None:
        return None
    if isinstance(column_type, DateTime):
        return format_time(parse_time(value) if isinstance(value, str) else value)
    if isinstance(column_type, Date) and isinstance(value, date):
        return value.isoformat()
    if isinstance(column_type, Time) and isinstance(value, time):
        return value.isoformat()
    if isinstance(column_type, LargeBinary) and isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(column_type, Uuid):
        return str(uuid.UUID(str(value)))
    if isinstance(column_type, Float):
        return repr(float(value))
    if isinstance(column_type, Numeric) and not isinstance(value, bool):
        return format(Decimal(value).normalize(), "f")
    if isinstance(column_type, JSON):
        return msgspec.to_builtins(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


class RowNormaliser:
    """Per-model: a row (a mapping of column name to value, or a model instance) as its key
    and normalised values."""

    def __init__(self, model: type[SQLModel]) -> None:
        self.table = table_name(model)
        self.columns = [(c.name, c.type) for c in _columns(model)]
        pk = {c.name for c in model.__table__.primary_key.columns}  # type: ignore[attr-defined]
        self.key_columns = [c for c, _ in self.columns if c in pk]

    def values(self, row: Mapping[str, Any] | SQLModel) -> Values:
        if isinstance(row, SQLModel):
            return {name: normal_value(t, getattr(row, name, None)) for name, t in self.columns}
        return {name: normal_value(t, row.get(name)) for name, t in self.columns}

    def key(self, values: Values) -> list[Any]:
        return [values[c] for c in self.key_columns]

    def row_hash(self, key: list[Any], values: Values) -> bytes:
        return hashlib.sha256(canonical_bytes([self.table, key, values])).digest()


def bucket_of(key: Sequence[Any]) -> int:
    return hashlib.sha256(canonical_bytes(list(key))).digest()[0]


@dataclass(frozen=True, slots=True)
class TableDigest:
    table: str
    rows: int
    digest: bytes
    buckets: tuple[bytes, ...]

    def as_json(self, *, buckets: bool = False) -> dict[str, Any]:
        doc: dict[str, Any] = {"rows": self.rows, "digest": self.digest.hex()}
        if buckets:
            doc["buckets"] = [b.hex() for b in self.buckets]
        return doc


@dataclass(frozen=True, slots=True)
class StateDigest:
    digest: bytes
    tables: dict[str, TableDigest]

    def as_json(self) -> dict[str, Any]:
        return {
            "digest": self.digest.hex(),
            "tables": {name: t.as_json() for name, t in sorted(self.tables.items())},
        }


@dataclass
class DigestBuilder:
    """Collects row hashes table by table; ``finish`` folds them into a ``StateDigest``.

    Precondition: each (table, key) is added at most once (primary keys are unique).
    """

    models: Sequence[type[SQLModel]]
    _normalisers: dict[type[SQLModel], RowNormaliser] = field(init=False)
    _hashes: dict[str, list[list[bytes]]] = field(init=False)

    def __post_init__(self) -> None:
        self._normalisers = {m: RowNormaliser(m) for m in self.models}
        self._hashes = {n.table: [[] for _ in range(BUCKETS)] for n in self._normalisers.values()}

    def add(self, model: type[SQLModel], row: Mapping[str, Any] | SQLModel) -> None:
        normaliser = self._normalisers[model]
        values = normaliser.values(row)
        key = normaliser.key(values)
        self._hashes[normaliser.table][bucket_of(key)].append(normaliser.row_hash(key, values))

    def add_all(self, model: type[SQLModel], rows: Iterable[Mapping[str, Any] | SQLModel]) -> None:
        for row in rows:
            self.add(model, row)

    def add_hash(self, model: type[SQLModel], bucket: int, row_hash: bytes) -> None:
        """A row whose bucket and hash were computed already (``RowHasher``)."""
        self._hashes[self._normalisers[model].table][bucket].append(row_hash)

    def finish(self) -> StateDigest:
        tables: dict[str, TableDigest] = {}
        for name, buckets in self._hashes.items():
            tables[name] = table_digest(name, [(len(b), bucket_digest(sorted(b))) for b in buckets])
        return state_digest(tables)


def bucket_digest(sorted_hashes: Iterable[bytes]) -> bytes:
    """A bucket's digest, from its row hashes in ascending byte order."""
    return hashlib.sha256(b"".join(sorted_hashes)).digest()


EMPTY_BUCKET = bucket_digest(())


def table_digest(name: str, buckets: Sequence[tuple[int, bytes]]) -> TableDigest:
    """A table's digest, from its ``BUCKETS`` buckets' (row count, digest)."""
    if len(buckets) != BUCKETS:
        raise ValueError(f"a table has {BUCKETS} buckets, found {len(buckets)}")
    folded = tuple(d for _, d in buckets)
    rows = sum(n for n, _ in buckets)
    digest = hashlib.sha256(f"{name}\n{rows}\n".encode() + b"".join(folded)).digest()
    return TableDigest(name, rows, digest, folded)


def state_digest(tables: Mapping[str, TableDigest]) -> StateDigest:
    lines = "".join(f"{name} {t.digest.hex()}\n" for name, t in sorted(tables.items()))
    return StateDigest(hashlib.sha256(lines.encode()).digest(), dict(tables))


class RowHasher:
    """Per model: a row's bucket and row hash, as ``DigestBuilder.add`` computes them
    (``RowNormaliser``, ``bucket_of``, ``row_hash``), with the per-column choice
    ``normal_value`` makes by column type made once: a column of none of the types it treats
    apart only turns an enum member into its value."""

    def __init__(self, model: type[SQLModel]) -> None:
        self.normaliser = RowNormaliser(model)
        self.table = self.normaliser.table
        self._columns = [(name, _normal_for(t)) for name, t in self.normaliser.columns]
        self._key_columns = self.normaliser.key_columns

    def bucket_and_hash(self, row: SQLModel) -> tuple[int, bytes]:
        fields = row.__dict__  # what the attributes read (SQLAlchemy's reads it first)
        values = {}
        for name, normal in self._columns:
            value = fields.get(name, _UNSET)
            values[name] = normal(getattr(row, name, None) if value is _UNSET else value)
        key = [values[c] for c in self._key_columns]
        bucket = hashlib.sha256(canonical_bytes(key)).digest()[0]
        return bucket, hashlib.sha256(canonical_bytes([self.table, key, values])).digest()


_UNSET = object()


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


_TREATED_APART = (DateTime, Date, Time, LargeBinary, Uuid, Float, Numeric, JSON)


def _normal_for(column_type: Any) -> Callable[[Any], Any]:
    if isinstance(column_type, _TREATED_APART):
        return functools.partial(normal_value, column_type)
    return _plain


@dataclass(frozen=True, slots=True)
class RowDigest:
    key: list[Any]
    hash: bytes
    values: Values

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "hash": self.hash.hex(), "row": self.values}


def bucket_rows(
    model: type[SQLModel], rows: Iterable[Mapping[str, Any] | SQLModel], bucket: int
) -> list[RowDigest]:
    """The rows of ``model`` that fall in ``bucket``, sorted by their canonical key."""
    normaliser = RowNormaliser(model)
    found = []
    for row in rows:
        values = normaliser.values(row)
        key = normaliser.key(values)
        if bucket_of(key) == bucket:
            found.append(RowDigest(key, normaliser.row_hash(key, values), values))
    return sorted(found, key=lambda r: canonical_bytes(r.key))


@dataclass(frozen=True, slots=True)
class StateDifference:
    """Where two states differ: the table, and when known the key and the columns."""

    table: str
    key: list[Any] | None
    reason: str


def first_table_difference(mine: StateDigest, theirs: Mapping[str, Any]) -> str | None:
    """The first table (by name) whose digest differs from ``theirs`` (a digest's JSON)."""
    their_tables: Mapping[str, Any] = theirs.get("tables", {})
    for name in sorted(set(mine.tables) | set(their_tables)):
        table = mine.tables.get(name)
        other = their_tables.get(name)
        if table is None or other is None or other.get("digest") != table.digest.hex():
            return name
    return None


def first_bucket_difference(mine: TableDigest, their_buckets: Sequence[str]) -> int | None:
    for index, (bucket, other) in enumerate(zip(mine.buckets, their_buckets, strict=False)):
        if bucket.hex() != other:
            return index
    return None if len(their_buckets) == BUCKETS else 0


def first_row_difference(
    table: str, mine: Sequence[RowDigest], theirs: Sequence[Mapping[str, Any]]
) -> StateDifference | None:
    """Compare the rows of one bucket: replayed (``mine``) against the server's (JSON)."""
    own = {canonical_bytes(r.key): r for r in mine}
    other = {canonical_bytes(r["key"]): r for r in theirs}
    for k in sorted(own.keys() | other.keys()):
        a, b = own.get(k), other.get(k)
        if a is None:
            return StateDifference(
                table,
                b["key"] if b else None,
                "the server holds this row; replaying the log does not make it",
            )
        if b is None:
            return StateDifference(
                table, a.key, "replaying the log makes this row; the server does not hold it"
            )
        if a.hash.hex() != b.get("hash"):
            server_row: Mapping[str, Any] = b.get("row") or {}
            cols = [c for c in a.values if a.values.get(c) != server_row.get(c)]
            detail = (
                ", ".join(f"{c}: server {server_row.get(c)!r}, log {a.values.get(c)!r}" for c in cols)
                or "the row hashes differ"
            )
            return StateDifference(table, a.key, detail)
    return None


def row_from_values(model: type[SQLModel], values: Mapping[str, Any]) -> SQLModel:
    """The row ``values`` (as ``RowNormaliser.values`` made them) stood for: the inverse of
    normalisation for the column types rules use (text, integers, booleans, dates, JSON)."""
    fields: dict[str, Any] = {}
    for column in _columns(model):
        value = values.get(column.name)
        if value is not None:
            t = column.type
            if isinstance(t, DateTime):
                value = parse_time(value)
            elif isinstance(t, Date):
                value = date.fromisoformat(value)
            elif isinstance(t, Time):
                value = time.fromisoformat(value)
            elif isinstance(t, LargeBinary):
                value = bytes.fromhex(value)
            elif isinstance(t, Uuid):
                value = uuid.UUID(value)
            elif isinstance(t, Float):
                value = float(value)
            elif isinstance(t, Numeric):
                value = Decimal(value)
        fields[column.name] = value
    return model.model_construct(**fields)
