"""The replayed state of one audit on disk: an SQLite file in a folder of its own, removed when
the audit is done, so that the verifier's memory does not grow with the rows the log makes.

Each projection model has a table of its rows: ``k`` the primary key (msgpack of its values,
unique, so indexed: a narrow index, which a page cache of a few tens of MB holds even for a
million rows, answers the lookups of keys not there yet that rules make before adding a row),
``v`` the row (pickle of its field values, in field order), and ``b``/``h`` the row's bucket
and hash in the state digest (``contracts.digest.RowHasher``), so that the digest at the end
sorts stored hashes instead of hashing every row then. An equality lookup (``load_where``)
adds a column ``i<n>`` of the looked-up columns' values (msgpack) and its index the first time
it is asked for, filled from the rows there.

Memory holds the rows written since the last flush (``dirty``, about ``flush_rows`` in all
tables) and a cache of rows read or written (``hot`` and ``old``, two generations of at most
``cache_rows`` in all tables, also remembering keys known to be absent), never more. Rows are only ever
replaced, never changed in place (``contracts.state``), so a cached row is the row.

Keys are compared as their msgpack bytes: equal keys of the same types have equal bytes, as
the rules build keys of one type per column (payload schemas are typed).

The file is scratch: no journal, no sync. A crash leaves a stray folder under the temporary
directory and nothing that a later audit reads; no verdict is ever taken from it.

The entry ids of the log checked so far (``ledger.verify.EntryIds``) live in the same file.
"""

from __future__ import annotations

import operator
import pickle
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from sqlmodel import SQLModel

from contracts.digest import (
    BUCKETS,
    EMPTY_BUCKET,
    RowHasher,
    StateDigest,
    bucket_digest,
    state_digest,
    table_digest,
)
from contracts.rulebook import PROJECTION_MODELS
from contracts.state import Key, construct

R = TypeVar("R", bound=SQLModel)

CACHE_ROWS = 16_000  # in all tables together
FLUSH_ROWS = 10_000
PAGE_CACHE_KIB = 40 * 1024
SORT_CACHE_KIB = 8 * 1024
ENTRY_IDS_CACHE_KIB = 16 * 1024
ENTRY_IDS_PENDING = 1 << 16
MAX_VARIABLES = 999  # per statement: SQLite's smallest limit
BLOOM_MIN_BITS = 1 << 20
BLOOM_MAX_BITS = 1 << 25
BITS_A_KEY = 12
_encode_key = msgspec.msgpack.Encoder().encode
_ABSENT = object()


class _KeysWritten:
    """A Bloom filter of the keys (bytes or integers) a table was ever given (a deleted key
    stays): a key it says was never written is not in the table, which spares an SQLite
    lookup for every row a rule checks is not there yet before adding it, and for every entry
    id. It grows four times over, rebuilt from the table's keys, when it holds more than a key
    for ``BITS_A_KEY`` bits, up to ``BLOOM_MAX_BITS`` (a million keys: 2 MiB, and one lookup
    of a key not there in about 200 still asked of SQLite)."""

    def __init__(self, bits: int = BLOOM_MIN_BITS) -> None:
        self.mask = bits - 1
        self.bits = bytearray(bits >> 3)
        self.keys = 0

    def add(self, k: bytes | int) -> None:
        h = hash(k) & 0xFFFF_FFFF_FFFF_FFFF
        step, bits, mask = (h >> 32) | 1, self.bits, self.mask
        i = h & mask
        bits[i >> 3] |= 1 << (i & 7)
        i = (h + step) & mask
        bits[i >> 3] |= 1 << (i & 7)
        i = (h + 2 * step) & mask
        bits[i >> 3] |= 1 << (i & 7)
        self.keys += 1

    def may_hold(self, k: bytes | int) -> bool:
        h = hash(k) & 0xFFFF_FFFF_FFFF_FFFF
        step, bits, mask = (h >> 32) | 1, self.bits, self.mask
        i = h & mask
        if not bits[i >> 3] >> (i & 7) & 1:
            return False
        i = (h + step) & mask
        if not bits[i >> 3] >> (i & 7) & 1:
            return False
        i = (h + 2 * step) & mask
        return bool(bits[i >> 3] >> (i & 7) & 1)

    def full(self) -> bool:
        return self.keys * BITS_A_KEY > self.mask and self.mask + 1 < BLOOM_MAX_BITS


class _Table:
    """One model's rows: the SQLite table and the rows held in memory."""

    def __init__(self, db: sqlite3.Connection, model: type[SQLModel], number: int) -> None:
        self.model = model
        self.db = db
        self.sql = f"t{number}"
        self.names = tuple(model.model_fields)
        self.values_of: Callable[[SQLModel], Any] = operator.attrgetter(*self.names)
        self.single = len(self.names) == 1
        self.hasher = RowHasher(model)
        self.dirty: dict[Key, SQLModel | None] = {}
        self.hot: dict[Key, SQLModel | None] = {}
        self.old: dict[Key, SQLModel | None] = {}
        self.indexes: dict[tuple[str, ...], str] = {}
        self.written = _KeysWritten()
        db.execute(
            f"CREATE TABLE {self.sql} (k BLOB NOT NULL UNIQUE, v BLOB NOT NULL, "
            "b INTEGER NOT NULL, h BLOB NOT NULL)"
        )
        self._insert, self._upsert = self._write_statements()

    def _write_statements(self) -> tuple[str, str]:
        """The statements that write a row new to the table, and one that may be there."""
        columns = ["v", "b", "h", *self.indexes.values()]
        names = ", ".join(columns)
        marks = ", ?" * len(columns)
        update = ", ".join(f"{c} = excluded.{c}" for c in columns)
        insert = f"INSERT INTO {self.sql} (k, {names}) VALUES (?{marks})"
        return insert, f"{insert} ON CONFLICT (k) DO UPDATE SET {update}"

    def encode(self, row: SQLModel) -> bytes:
        values = self.values_of(row)
        return pickle.dumps((values,) if self.single else values, pickle.HIGHEST_PROTOCOL)

    def decode(self, blob: bytes) -> SQLModel:
        return construct(self.model, dict(zip(self.names, pickle.loads(blob), strict=True)))

    def select(self, key: Key) -> SQLModel | None:
        k = _encode_key(key)
        if not self.written.may_hold(k):
            return None
        found = self.db.execute(f"SELECT v FROM {self.sql} WHERE k = ?", (k,)).fetchone()
        return None if found is None else self.decode(found[0])

    def select_many(self, keys: list[Key]) -> dict[Key, SQLModel | None]:
        """``select`` of each of ``keys``, in statements of at most ``MAX_VARIABLES`` keys."""
        rows: dict[Key, SQLModel | None] = {}
        for start in range(0, len(keys), MAX_VARIABLES):
            part = keys[start : start + MAX_VARIABLES]
            encoded = {k: key for key in part if self.written.may_hold(k := _encode_key(key))}
            marks = ",".join("?" * len(encoded))
            for k, v in self.db.execute(f"SELECT k, v FROM {self.sql} WHERE k IN ({marks})", list(encoded)):
                rows[encoded[k]] = self.decode(v)
            for key in part:
                rows.setdefault(key, None)
        return rows

    def flush(self) -> None:
        """Write the dirty rows (in the caller's transaction) and keep them as cached."""
        if not self.dirty:
            return
        gone: list[tuple[bytes]] = []
        new: list[tuple[Any, ...]] = []
        replaced: list[tuple[Any, ...]] = []
        index_columns = list(self.indexes)
        keys = self.written
        for key, row in self.dirty.items():
            k = _encode_key(key)
            if row is None:
                gone.append((k,))
                continue
            bucket, h = self.hasher.bucket_and_hash(row)
            looked_up = [_encode_key(tuple(getattr(row, c) for c in cols)) for cols in index_columns]
            (replaced if keys.may_hold(k) else new).append((k, self.encode(row), bucket, h, *looked_up))
            keys.add(k)
        if gone:
            self.db.executemany(f"DELETE FROM {self.sql} WHERE k = ?", gone)
        # In key order, so that the key's index is walked in order rather than at random.
        if new:
            self.db.executemany(self._insert, sorted(new))
        if replaced:
            self.db.executemany(self._upsert, sorted(replaced))
        self.hot.update(self.dirty)
        self.dirty = {}
        if keys.full():
            self._grow_keys_written()

    def _grow_keys_written(self) -> None:
        keys = _KeysWritten(min(4 * (self.written.mask + 1), BLOOM_MAX_BITS))
        rows = self.db.execute(f"SELECT k FROM {self.sql}")
        while batch := rows.fetchmany(4096):
            for (k,) in batch:
                keys.add(k)
        self.written = keys

    def add_index(self, cols: tuple[str, ...]) -> str:
        """The column of ``cols``' values and its index, filled from the rows there (the
        caller has flushed the table)."""
        column = f"i{len(self.indexes)}"
        self.db.execute(f"ALTER TABLE {self.sql} ADD COLUMN {column} BLOB")
        after = -1
        while rows := self.db.execute(
            f"SELECT rowid, v FROM {self.sql} WHERE rowid > ? ORDER BY rowid LIMIT 4096", (after,)
        ).fetchall():
            self.db.executemany(
                f"UPDATE {self.sql} SET {column} = ? WHERE rowid = ?",
                [(_encode_key(tuple(getattr(self.decode(v), c) for c in cols)), rowid) for rowid, v in rows],
            )
            after = rows[-1][0]
        self.db.execute(f"CREATE INDEX {self.sql}_{column} ON {self.sql} ({column})")
        self.indexes[cols] = column
        self._insert, self._upsert = self._write_statements()
        return column


def _connect(path: Path, cache_kib: int) -> sqlite3.Connection:
    # Used by one thread at a time; the finalizer that closes it may run in another.
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in (
        "journal_mode = OFF",
        "synchronous = OFF",
        "locking_mode = EXCLUSIVE",
        "temp_store = FILE",
        f"cache_size = -{cache_kib}",
    ):
        db.execute(f"PRAGMA {pragma}")
    return db


def _close(db: sqlite3.Connection, ids: sqlite3.Connection, folder: str) -> None:
    try:
        db.close()
        ids.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class DiskState:
    """``contracts.audit.ReplayedState`` in an SQLite file; see the module docstring.

    Single-threaded: one audit's replay reads and writes it, in one thread."""

    def __init__(
        self,
        parent: Path | None = None,
        *,
        cache_rows: int = CACHE_ROWS,
        flush_rows: int = FLUSH_ROWS,
        models: Sequence[type[SQLModel]] = PROJECTION_MODELS,
    ) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="rural-ledger-audit-", dir=parent))
        self.db = _connect(self.folder / "state.sqlite", PAGE_CACHE_KIB)
        # The entry ids in a file of their own, with a page cache of their own: their index,
        # written at random, is then never pushed out of the cache by the rows'.
        ids = _connect(self.folder / "entry_ids.sqlite", ENTRY_IDS_CACHE_KIB)
        self._closer = weakref.finalize(self, _close, self.db, ids, str(self.folder))
        self.models = list(models)
        self.cache_rows, self.flush_rows = cache_rows, flush_rows
        self._tables: dict[type[SQLModel], _Table] = {}
        self._dirty_rows = 0
        self._hot_rows = 0
        self.entry_ids = SqliteEntryIds(ids)

    def close(self) -> None:
        """Remove the file and its folder (also done when the object is collected)."""
        self._closer()

    def __enter__(self) -> DiskState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _table(self, model: type[SQLModel]) -> _Table:
        table = self._tables.get(model)
        if table is None:
            table = self._tables[model] = _Table(self.db, model, len(self._tables))
        return table

    # StateReader

    def load(self, model: type[R], key: Key) -> R | None:
        table = self._tables.get(model)
        if table is None:
            return None
        found = table.dirty.get(key, _ABSENT)
        if found is _ABSENT:
            found = table.hot.get(key, _ABSENT)
            if found is _ABSENT:
                found = table.old.get(key, _ABSENT)
                if found is _ABSENT:
                    found = table.select(key)
                self._cache(table, key, found)  # type: ignore[arg-type]
        return found  # type: ignore[return-value]

    def _cache(self, table: _Table, key: Key, row: SQLModel | None) -> None:
        table.hot[key] = row
        self._hot_rows += 1
        if self._hot_rows >= self.cache_rows:
            self._age()

    def _age(self) -> None:
        """The cache's older generation dropped, its newer one made the older, in every
        table at once, so that the bound holds for all of them together."""
        for table in self._tables.values():
            table.old, table.hot = table.hot, {}
        self._hot_rows = 0

    def load_many(self, model: type[R], keys: Iterable[Key]) -> None:
        """Read the rows of ``keys`` not in memory in a few statements, into the cache."""
        table = self._tables.get(model)
        if table is None:
            return
        missing = [k for k in keys if k not in table.dirty and k not in table.hot and k not in table.old]
        if missing:
            for key, row in table.select_many(missing).items():
                self._cache(table, key, row)

    def load_where(self, model: type[R], where: Mapping[str, Any]) -> list[R]:
        table = self._tables.get(model)
        if table is None:
            return []
        cols = tuple(sorted(where))
        if table.dirty:
            self._flush([table])
        column = table.indexes.get(cols)
        if column is None:
            column = self._in_transaction(lambda: table.add_index(cols))
        value = _encode_key(tuple(where[c] for c in cols))
        found = self.db.execute(f"SELECT v FROM {table.sql} WHERE {column} = ?", (value,))
        return [table.decode(v) for (v,) in found]  # type: ignore[misc]

    def find_many(self, model: type[R], column: str, values: Iterable[Any]) -> None:
        """Nothing read ahead: the index is read when it is asked."""

    # What the replay writes, the digest and the state file read

    def apply(self, changes: Mapping[type[SQLModel], Mapping[Key, SQLModel | None]]) -> None:
        for model, rows in changes.items():
            if rows:
                dirty = self._table(model).dirty
                before = len(dirty)
                dirty.update(rows)
                self._dirty_rows += len(dirty) - before
        if self._dirty_rows >= self.flush_rows:
            self._flush(list(self._tables.values()))

    def _flush(self, tables: Iterable[_Table]) -> None:
        def write() -> None:
            for table in tables:
                self._dirty_rows -= len(table.dirty)
                before = len(table.hot)
                table.flush()
                self._hot_rows += len(table.hot) - before
            if self._hot_rows >= self.cache_rows:
                self._age()

        self._in_transaction(write)

    def _in_transaction(self, work: Callable[[], Any]) -> Any:
        self.db.execute("BEGIN")
        try:
            result = work()
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        return result

    def rows_of(self, model: type[SQLModel]) -> Iterator[SQLModel]:
        """``model``'s rows, read in batches (never all in memory)."""
        table = self._tables.get(model)
        if table is None:
            return
        if table.dirty:
            self._flush([table])
        rows = self.db.execute(f"SELECT v FROM {table.sql}")
        while batch := rows.fetchmany(1024):
            for (v,) in batch:
                yield table.decode(v)

    def digest(self) -> StateDigest:
        """The state digest (``contracts.digest``), from the stored row hashes in order."""
        self._flush(list(self._tables.values()))
        # SQLite sorts in as much memory as its page cache may take, and spills to a file
        # beyond it: a small cache while it sorts keeps the audit's peak where the replay's is.
        self.db.execute(f"PRAGMA cache_size = -{SORT_CACHE_KIB}")
        try:
            tables = {}
            for model in self.models:
                table = self._tables.get(model)
                name = RowHasher(model).table if table is None else table.hasher.table
                buckets = [(0, EMPTY_BUCKET)] * BUCKETS
                if table is not None:
                    rows = self.db.execute(f"SELECT b, h FROM {table.sql} ORDER BY b, h")
                    for bucket, hashes in _by_bucket(rows):
                        buckets[bucket] = (len(hashes), bucket_digest(hashes))
                tables[name] = table_digest(name, buckets)
        finally:
            self.db.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
        return state_digest(tables)

    def memory_rows(self) -> int:
        """How many rows memory holds now (dirty and cached): bounded by the settings."""
        return sum(len(t.dirty) + len(t.hot) + len(t.old) for t in self._tables.values())


def _by_bucket(rows: sqlite3.Cursor) -> Iterator[tuple[int, list[bytes]]]:
    current, hashes = -1, list[bytes]()
    while batch := rows.fetchmany(4096):
        for bucket, h in batch:
            if bucket != current:
                if hashes:
                    yield current, hashes
                current, hashes = bucket, []
            hashes.append(h)
    if hashes:
        yield current, hashes


class SqliteEntryIds:
    """``ledger.verify.EntryIds`` in an SQLite file: each id (16 bytes, big-endian) with the
    seq of the first record that used it.

    Ids are random, and a B-tree takes them at random pages: they are kept in memory until
    ``ENTRY_IDS_PENDING`` of them, then written in order, so that the index is swept once
    instead of visited at random for each. A Bloom filter of those written answers most
    lookups of an id never used."""

    def __init__(self, db: sqlite3.Connection, pending: int = ENTRY_IDS_PENDING) -> None:
        self.db = db
        self.limit = pending
        self.pending: dict[int, int] = {}  # id -> seq, not written yet
        self.written = _KeysWritten()
        db.execute("CREATE TABLE entry_ids (id BLOB PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID")

    def _first_seq(self, entry_id: int) -> int | None:
        seq = self.pending.get(entry_id)
        if seq is None and self.written.may_hold(entry_id):
            found = self.db.execute(
                "SELECT seq FROM entry_ids WHERE id = ?", (entry_id.to_bytes(16, "big"),)
            ).fetchone()
            seq = None if found is None else int(found[0])
        return seq

    def add_all(self, entry_ids: Sequence[int], first_seq: int) -> bool:
        new = True
        pending = self.pending
        for i, entry_id in enumerate(entry_ids):
            if self._first_seq(entry_id) is None:
                pending[entry_id] = first_seq + i
            else:
                new = False
        if len(pending) >= self.limit:
            self._write()
        return new

    def seen_before(self, entry_id: int, seq: int) -> bool:
        first = self._first_seq(entry_id)
        return first is not None and first < seq

    def add(self, entry_id: int, seq: int) -> None:
        if self._first_seq(entry_id) is None:
            self.pending[entry_id] = seq
            if len(self.pending) >= self.limit:
                self._write()

    def update(self, entry_ids: Iterable[int]) -> None:
        for entry_id in entry_ids:
            self.add(entry_id, -1)

    def ascending(self) -> Iterator[int]:
        self._write()
        rows = self.db.execute("SELECT id FROM entry_ids ORDER BY id")
        while batch := rows.fetchmany(4096):
            for (blob,) in batch:
                yield int.from_bytes(blob, "big")

    def _write(self) -> None:
        """The pending ids into the file, in order (none of them is there: each was looked
        up first)."""
        if not self.pending:
            return
        self.db.execute("BEGIN")
        self.db.executemany(
            "INSERT INTO entry_ids VALUES (?, ?)",
            [(entry_id.to_bytes(16, "big"), seq) for entry_id, seq in sorted(self.pending.items())],
        )
        self.db.execute("COMMIT")
        for entry_id in self.pending:
            self.written.add(entry_id)
        self.pending = {}
        if self.written.full():
            grown = _KeysWritten(min(4 * (self.written.mask + 1), BLOOM_MAX_BITS))
            rows = self.db.execute("SELECT id FROM entry_ids")
            while batch := rows.fetchmany(4096):
                for (blob,) in batch:
                    grown.add(int.from_bytes(blob, "big"))
            self.written = grown
