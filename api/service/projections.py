"""The SQL side of the state mechanism: projection tables read and written inside the
append transaction, behind the same ``StagedState`` and rules the verifier runs in memory.

Committed rows read by earlier batches are cached in the process. The cache is only trusted
while this process is the last writer: when another process appended (``head_moved``) or a
batch did not commit, it is dropped.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec
from sqlalchemy import Connection, and_, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import configure_mappers
from sqlmodel import SQLModel

from contracts.engine import Decodings, ReadsAhead, admit, reads_ahead, rows_to_prefetch
from contracts.rulebook import version_in_force
from contracts.state import (
    Change,
    Delete,
    Key,
    R,
    StagedState,
    construct,
    construct_many,
    key_of,
    primary_key_columns,
    values_of,
)
from ledger.appender import Submission
from ledger.entry import SignedEntry
from ledger.store import insert_rows

CACHE_LIMIT = 200_000
PREFETCH_CHUNK = 5_000
Staged = dict[type[SQLModel], dict[Key, SQLModel | None]]


configure_mappers()  # rows are built without __init__ (``construct``), which needs configured mappers


def table_of(model: type[SQLModel]) -> Any:
    return model.__table__  # type: ignore[attr-defined]


class SqlReader:
    """Committed projection rows, read through ``conn`` (inside the append transaction)."""

    def __init__(self, conn: Connection, cache: dict[tuple[type[SQLModel], Key], Any]) -> None:
        self.conn = conn
        self.cache = cache
        # Answers to equality queries, for this batch only: committed state cannot change
        # while the batch holds the writer lock (staged changes are overlaid by StagedState).
        self.found: dict[tuple[type[SQLModel], tuple[tuple[str, Any], ...]], list[Any]] = {}

    def load(self, model: type[R], key: Key) -> R | None:
        hit = self.cache.get((model, key), _MISS)
        if hit is not _MISS:
            return hit  # type: ignore[no-any-return]
        table = table_of(model)
        cols = primary_key_columns(model)
        row = self.conn.execute(
            select(table).where(and_(*(table.c[c] == v for c, v in zip(cols, key, strict=True))))
        ).first()
        found = construct(model, row._mapping) if row else None
        self.cache[(model, key)] = found
        return found

    def load_where(self, model: type[R], where: Mapping[str, Any]) -> list[R]:
        query = (model, tuple(sorted(where.items())))
        hit = self.found.get(query)
        if hit is None:
            table = table_of(model)
            result = self.conn.execute(
                select(table).where(and_(*(table.c[c] == v for c, v in where.items())))
            )
            hit = self.found[query] = construct_many(model, list(result.keys()), result.all())
        return hit

    def load_many(self, model: type[R], keys: Iterable[Key]) -> None:
        """Fetch the rows of ``keys`` not cached yet, in one query per few thousand keys."""
        missing = [k for k in keys if (model, k) not in self.cache]
        table = table_of(model)
        pk = primary_key_columns(model)
        for start in range(0, len(missing), PREFETCH_CHUNK):
            chunk = missing[start : start + PREFETCH_CHUNK]
            for k in chunk:
                self.cache[(model, k)] = None
            result = self.conn.execute(
                text(
                    f"SELECT t.* FROM {table.name} t JOIN unnest("
                    f"{', '.join(_array_param(table.c[c]) for c in pk)}) AS w({', '.join(pk)}) "
                    f"ON {' AND '.join(f't.{c} = w.{c}' for c in pk)}"
                ),
                {c: [k[i] for k in chunk] for i, c in enumerate(pk)},
            )
            for found in construct_many(model, list(result.keys()), result.all()):
                self.cache[(model, key_of(found))] = found

    def find_many(self, model: type[R], column: str, values: Iterable[Any]) -> None:
        """Answer ``load_where(model, {column: v})`` for each of ``values`` not answered yet
        in this batch, in one query per few thousand values."""
        missing = [v for v in values if v is not None and (model, ((column, v),)) not in self.found]
        table = table_of(model)
        for start in range(0, len(missing), PREFETCH_CHUNK):
            chunk = missing[start : start + PREFETCH_CHUNK]
            answers: dict[Any, list[Any]] = {v: [] for v in chunk}
            result = self.conn.execute(
                text(f"SELECT * FROM {table.name} WHERE {column} = ANY({_array_param(table.c[column])})"),
                {column: chunk},
            )
            for found in construct_many(model, list(result.keys()), result.all()):
                answers[found.__dict__[column]].append(found)
            for v, found_rows in answers.items():
                self.found[(model, ((column, v),))] = found_rows


_MISS = object()


class ProjectionBatch:
    """One batch's admission: rules over projection tables, changes flushed at the end."""

    def __init__(self, conn: Connection, cache: dict[tuple[type[SQLModel], Key], Any]) -> None:
        self.reader = SqlReader(conn, cache)
        self.state = StagedState(self.reader)
        self.written: Staged = {}
        self.history: list[tuple[int, Change]] = []
        self.attachments: list[SQLModel] = []
        self.decodings = Decodings()
        self.version: int | None = None  # in force before the batch, then after it once flushed

    def prepare(self, batch: list[Submission]) -> None:
        version = self.version = version_in_force(self.state)
        ahead = [s.ahead if isinstance(s.ahead, ReadsAhead) else None for s in batch]
        wanted = rows_to_prefetch([s.signed for s in batch], version, self.decodings, ahead)
        for model, keys in wanted.keys.items():
            self.reader.load_many(model, keys)
        for (model, column), values in wanted.finds.items():
            self.reader.find_many(model, column, values)

    def admit(self, item: Submission, seq: int, recorded_at: str) -> None:
        admitted = admit(
            self.state,
            item.signed,
            seq,
            recorded_at,
            checked_key=item.checked_key,
            decodings=self.decodings,
        )
        self.history.extend((seq, c) for c in admitted.changes)
        self.attachments.extend(row for row in item.beside if isinstance(row, SQLModel))

    def flush(self, conn: Connection) -> None:
        self.version = version_in_force(self.state)  # as the batch leaves it
        self.written = self.state.drain()
        dump = RowDumps()
        for model, rows in self.written.items():
            write_rows(conn, model, rows, dump)
        write_history(conn, self.history, dump)
        attached: dict[type[SQLModel], dict[Key, SQLModel | None]] = {}
        for row in self.attachments:
            attached.setdefault(type(row), {})[key_of(row)] = row
        # Attachments (personal data, notes) are new rows of newly admitted records: inserted, never
        # updated (the service role may not UPDATE them).
        for model, rows in attached.items():
            write_rows(conn, model, rows, dump, upsert=False)


class RowDumps:
    """Each row's column values, computed once per flush however many writes need them."""

    def __init__(self) -> None:
        self._dumps: dict[int, tuple[SQLModel, dict[str, Any]]] = {}

    def __call__(self, row: SQLModel) -> dict[str, Any]:
        hit = self._dumps.get(id(row))
        if hit is None or hit[0] is not row:
            hit = (row, values_of(row))
            self._dumps[id(row)] = hit
        return hit[1]


def write_rows(
    conn: Connection,
    model: type[SQLModel],
    rows: Mapping[Key, SQLModel | None],
    dump: Callable[[SQLModel], dict[str, Any]] = values_of,
    *,
    upsert: bool = True,
) -> None:
    """Upsert the rows given (insert only, without ``upsert``) and delete those given as
    ``None``: one statement each, the values sent as one array per column (``unnest``),
    however many rows a batch changed."""
    table = table_of(model)
    pk = primary_key_columns(model)
    puts = [dump(row) for row in rows.values() if row is not None]
    gone = [key for key, row in rows.items() if row is None]
    if puts:
        cols = [c.name for c in table.columns]
        others = [c for c in cols if c not in pk]
        # Column names are quoted: a model may name one as SQL reserves a word ("right").
        quoted = {c: f'"{c}"' for c in cols}
        update = (
            f"DO UPDATE SET {', '.join(f'{quoted[c]} = EXCLUDED.{quoted[c]}' for c in others)}"
            if others
            else "DO NOTHING"
        )
        conflict = f"ON CONFLICT (ledger_id, {', '.join(pk)}) {update}" if upsert else ""
        conn.execute(
            text(
                f"INSERT INTO {table.name} ({', '.join(quoted[c] for c in cols)}) SELECT * FROM "
                f"unnest({', '.join(_array_param(table.c[c]) for c in cols)}) {conflict}"
            ),
            {c: _column_values(table.c[c], [r[c] for r in puts]) for c in cols},
        )
    if gone:
        conn.execute(
            text(
                f"DELETE FROM {table.name} USING unnest("
                f"{', '.join(_array_param(table.c[c]) for c in pk)}) AS gone({', '.join(pk)}) "
                f"WHERE {' AND '.join(f'{table.name}.{c} = gone.{c}' for c in pk)}"
            ),
            {c: [k[i] for k in gone] for i, c in enumerate(pk)},
        )


def write_history(
    conn: Connection,
    history: list[tuple[int, Change]],
    dump: Callable[[SQLModel], dict[str, Any]] = values_of,
) -> None:
    """One ``projection_history`` row per change: the row after a put, the row as it was
    before a delete (the last change wins if a record changed one row twice)."""
    rows: dict[tuple[str, str, int], tuple[str, bool]] = {}
    for seq, change in history:
        row = change.row
        rows[(table_of(type(row)).name, _json(list(key_of(row))), seq)] = (
            _json(dump(row)),
            isinstance(change, Delete),
        )
    insert_rows(
        conn,
        "projection_history",
        (("seq", "bigint"), ("model", "text"), ("key", "jsonb"), ("row", "jsonb"), ("deleted", "boolean")),
        [(seq, model, key, row, deleted) for (model, key, seq), (row, deleted) in rows.items()],
    )


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


_SQL_TYPES: dict[Any, str] = {}


def _sql_type(column: Any) -> str:
    """The column's PostgreSQL type name, compiled once per column."""
    name = _SQL_TYPES.get(column)
    if name is None:
        name = _SQL_TYPES[column] = str(column.type.compile(dialect=postgresql.dialect()))
    return name


def _array_param(column: Any) -> str:
    sql_type = _sql_type(column)
    if sql_type in ("JSON", "JSONB"):  # sent as text, since the driver encodes arrays as is
        return f"CAST(CAST(:{column.name} AS text[]) AS {sql_type}[])"
    return f"CAST(:{column.name} AS {sql_type}[])"


def _column_values(column: Any, values: list[Any]) -> list[Any]:
    if _sql_type(column) in ("JSON", "JSONB"):
        return [None if v is None else msgspec.json.encode(v).decode() for v in values]
    return values


class ProjectionBackend:
    """The appender's ``RulesBackend`` over the projection tables."""

    def __init__(self) -> None:
        self.cache: dict[tuple[type[SQLModel], Key], Any] = {}
        # The rule version in force after the last batch this process committed (None before
        # the first): what entries are decoded and their reads found under, ahead of their batch.
        self.version: int | None = None

    def ahead(self, signed: SignedEntry) -> ReadsAhead | None:
        """What admitting ``signed`` will read, found outside the writer lock under the last
        version seen; its batch checks that version is still the one in force."""
        return None if self.version is None else reads_ahead(signed, self.version)

    def begin(self, conn: Connection, head_moved: bool) -> ProjectionBatch:
        if head_moved:
            self.cache.clear()
        elif len(self.cache) > CACHE_LIMIT:
            # Forget the older half (dicts keep insertion order): a batch mostly reads rows the
            # batches just before it wrote or read, and prefetches the rest in bulk anyway.
            for key in list(itertools.islice(self.cache, len(self.cache) - CACHE_LIMIT // 2)):
                del self.cache[key]
        return ProjectionBatch(conn, self.cache)

    def committed(self, batch: ProjectionBatch) -> None:  # type: ignore[override]
        for model, rows in batch.written.items():
            for key, row in rows.items():
                self.cache[(model, key)] = row
        self.version = batch.version

    def aborted(self) -> None:
        self.cache.clear()
