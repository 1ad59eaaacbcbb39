"""The one state mechanism shared by the live appender and the offline verifier.

Rules read state through ``State`` (get a row by primary key, find rows by column equality)
and return ``Change`` objects; they never write. ``StagedState`` overlays the changes staged so
far in a batch on a ``StateReader``: the SQL reader (inside the append transaction) or the
in-memory ``MemoryReader`` (the verifier). Because both backends sit under the same overlay and
the same rules, replaying the log in memory rebuilds exactly what the service holds.

Rows are SQLModel table instances and are never mutated once read: a rule that changes a row
returns ``Put(row.model_copy(update=...))``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy.orm import configure_mappers
from sqlmodel import SQLModel

R = TypeVar("R", bound=SQLModel)
Key = tuple[Any, ...]


def primary_key_columns(model: type[SQLModel]) -> tuple[str, ...]:
    cached = _PK_CACHE.get(model)
    if cached is None:
        cached = tuple(c.name for c in model.__table__.primary_key.columns)  # type: ignore[attr-defined]
        _PK_CACHE[model] = cached
    return cached


_PK_CACHE: dict[type[SQLModel], tuple[str, ...]] = {}


def make(model: type[R], **fields: Any) -> R:
    """A new row of ``model``. Field names are checked (unknown or missing required ones are
    a bug and raise ``TypeError``); values are not re-validated, which keeps rows cheap (rules
    build them from payloads the schemas already checked)."""
    shape = _SHAPES.get(model) or _shape_of(model)
    if not shape.required <= fields.keys() <= shape.known:
        raise TypeError(
            f"{model.__name__}: missing {sorted(shape.required - fields.keys())}, "
            f"unknown {sorted(fields.keys() - shape.known)}"
        )
    return construct(model, fields)


def construct_many(model: type[R], names: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[R]:
    """``construct(model, dict(zip(names, row)))`` for each of ``rows`` (a query's rows, whose
    columns are ``names``), faster when every field of the model is among the columns: each
    row's fields are then picked by position, in field order, and all of them are set."""
    shape = _SHAPES.get(model) or _shape_of(model)
    if shape.fields is None or not shape.known <= set(names):
        return [construct(model, dict(zip(names, row, strict=True))) for row in rows]
    fields = [name for name, _, _ in shape.fields]
    pick = itemgetter(*[list(names).index(name) for name in fields])
    made: list[R] = []
    for row in rows:
        picked = pick(row)
        one = object.__new__(model)
        _set(one, "__dict__", dict(zip(fields, picked if len(fields) > 1 else (picked,), strict=True)))
        _set(one, "__pydantic_fields_set__", set(shape.known))
        _set(one, "__pydantic_extra__", None)
        _set(one, "__pydantic_private__", None)
        made.append(one)
    return made


def construct(model: type[R], values: Mapping[Any, Any]) -> R:
    """``model.model_construct(**values)``, the same object made faster: the fields' values
    (defaults for those not given, names not fields ignored) as its ``__dict__``, in field
    order, and the names given as its set fields. Models with aliases, a post-init hook or
    extra fields allowed are left to ``model_construct`` itself."""
    shape = _SHAPES.get(model) or _shape_of(model)
    if shape.fields is None:
        return model.model_construct(**values)
    given: set[str] = set()
    fields: dict[str, Any] = {}
    for name, default, field in shape.fields:
        if name in values:
            fields[name] = values[name]
            given.add(name)
        elif default is not _REQUIRED:
            fields[name] = (
                default
                if field is None
                else field.get_default(call_default_factory=True, validated_data=fields)
            )
    row = object.__new__(model)  # what SQLModel.__new__ makes, before model_construct sets it up
    _set(row, "__dict__", fields)
    _set(row, "__pydantic_fields_set__", given)
    _set(row, "__pydantic_extra__", None)
    _set(row, "__pydantic_private__", None)
    return row


def values_of(row: SQLModel) -> dict[str, Any]:
    """``row.model_dump()`` for the rows ``construct`` builds: each field's value, in field
    order (values are not copied: never mutate them)."""
    shape = _SHAPES.get(type(row)) or _shape_of(type(row))
    if shape.fields is not None:
        values = row.__dict__
        try:
            return {name: values[name] for name, _, _ in shape.fields}
        except KeyError:  # a row made by hand without some field: model_dump decides
            pass
    return row.model_dump()


_set = object.__setattr__
_REQUIRED = object()
# Default values pydantic hands out as they are (``smart_deepcopy`` copies anything else).
_IMMUTABLE = (int, float, str, bool, bytes, type(None))


@dataclass(frozen=True, slots=True)
class _Shape:
    known: frozenset[str]
    required: frozenset[str]
    # Per field in order: its name, its default (``_REQUIRED``: none; a value handed out as is)
    # and the field itself when its default must be made each time (a factory, a mutable value).
    # None: the model is built by ``model_construct``.
    fields: tuple[tuple[str, Any, Any], ...] | None


_SHAPES: dict[type[SQLModel], _Shape] = {}


def _shape_of(model: type[SQLModel]) -> _Shape:
    # Attribute access on rows made without __init__ needs the mappers configured first.
    configure_mappers()
    infos = model.model_fields
    plain = not (
        model.__pydantic_post_init__
        or model.__pydantic_root_model__
        or model.model_config.get("extra") == "allow"
        or any(f.alias is not None or f.validation_alias is not None for f in infos.values())
    )
    fields: list[tuple[str, Any, Any]] = []
    for name, info in infos.items():
        if info.is_required():
            fields.append((name, _REQUIRED, None))
        elif info.default_factory is None and type(info.default) in _IMMUTABLE:
            fields.append((name, info.default, None))
        else:
            fields.append((name, None, info))
    _SHAPES[model] = _Shape(
        frozenset(infos),
        frozenset(n for n, f in infos.items() if f.is_required()),
        tuple(fields) if plain else None,
    )
    return _SHAPES[model]


def key_of(row: SQLModel) -> Key:
    """The row's primary key, read from its ``__dict__`` (where the instrumented attributes
    read it from too), or through the attributes when it is not there (an expired ORM row)."""
    model = type(row)
    getter = _KEY_GETTERS.get(model) or _key_getter(model)
    try:
        return getter(row.__dict__)
    except KeyError:
        return tuple(getattr(row, c) for c in primary_key_columns(model))


_KEY_GETTERS: dict[type[SQLModel], Callable[[dict[str, Any]], Key]] = {}


def _key_getter(model: type[SQLModel]) -> Callable[[dict[str, Any]], Key]:
    columns = primary_key_columns(model)
    getter: Callable[[dict[str, Any]], Key]
    if len(columns) == 1:
        [column] = columns
        getter = lambda values: (values[column],)  # noqa: E731
    else:
        getter = cast(Callable[[dict[str, Any]], Key], itemgetter(*columns))  # a tuple, for two or more
    _KEY_GETTERS[model] = getter
    return getter


@dataclass(frozen=True, slots=True)
class Put:
    """Insert ``row``, or replace the row with the same primary key."""

    row: SQLModel


@dataclass(frozen=True, slots=True)
class Delete:
    """Delete ``row`` (as it was read: the history keeps what was deleted)."""

    row: SQLModel

    @property
    def model(self) -> type[SQLModel]:
        return type(self.row)

    @property
    def key(self) -> Key:
        return key_of(self.row)


Change = Put | Delete


@dataclass(frozen=True, slots=True)
class Where:
    """A prefetch hint: rows of ``model`` whose ``column`` equals ``value`` will be found."""

    model: type[SQLModel]
    column: str
    value: Any


class StateReader(Protocol):
    """Committed state as a backend holds it (before the current batch)."""

    def load(self, model: type[R], key: Key) -> R | None: ...

    def load_where(self, model: type[R], where: Mapping[str, Any]) -> list[R]: ...

    def load_many(self, model: type[R], keys: Iterable[Key]) -> None:
        """A hint that ``keys`` will be read soon; a backend may fetch them in one go."""

    def find_many(self, model: type[R], column: str, values: Iterable[Any]) -> None:
        """A hint that rows with ``column`` equal to each of ``values`` will be found soon."""


class State(Protocol):
    """What a rule may read."""

    def get(self, model: type[R], *key: Any) -> R | None: ...

    def find(self, model: type[R], **where: Any) -> list[R]: ...


class StagedState:
    """Changes staged by earlier records of a batch, overlaid on a ``StateReader``."""

    def __init__(self, base: StateReader) -> None:
        self.base = base
        self.staged: dict[type[SQLModel], dict[Key, SQLModel | None]] = {}
        # (model, columns) -> column values -> keys of staged rows with those values; built on
        # the first find by those columns and kept up to date by ``stage``.
        self._indexes: dict[tuple[type[SQLModel], tuple[str, ...]], dict[Key, set[Key]]] = {}
        self._indexes_of: dict[type[SQLModel], list[tuple[tuple[str, ...], dict[Key, set[Key]]]]] = {}

    def get(self, model: type[R], *key: Any) -> R | None:
        rows = self.staged.get(model)
        if rows is not None and key in rows:
            return rows[key]  # type: ignore[return-value]
        return self.base.load(model, key)

    def find(self, model: type[R], **where: Any) -> list[R]:
        """Rows whose columns equal ``where``, in primary-key order whatever the backend."""
        rows = self.staged.get(model) or {}
        merged: dict[Key, SQLModel] = {
            k: r for r in self.base.load_where(model, where) if (k := key_of(r)) not in rows
        }
        if rows:
            cols = tuple(sorted(where))
            for k in self._staged_index(model, cols).get(tuple(where[c] for c in cols), ()):
                merged[k] = rows[k]  # type: ignore[assignment]
        return [merged[k] for k in sorted(merged)]  # type: ignore[misc]

    def _staged_index(self, model: type[SQLModel], cols: tuple[str, ...]) -> dict[Key, set[Key]]:
        index = self._indexes.get((model, cols))
        if index is None:
            index = {}
            for k, row in self.staged.get(model, {}).items():
                if row is not None:
                    index.setdefault(tuple(getattr(row, c) for c in cols), set()).add(k)
            self._indexes[(model, cols)] = index
            self._indexes_of.setdefault(model, []).append((cols, index))
        return index

    def stage(self, changes: Iterable[Change]) -> None:
        for change in changes:
            model, key = type(change.row), key_of(change.row)
            row = change.row if isinstance(change, Put) else None
            rows = self.staged.setdefault(model, {})
            old = rows.get(key)
            rows[key] = row
            for cols, index in self._indexes_of.get(model, ()):
                if old is not None:
                    index.get(tuple(getattr(old, c) for c in cols), set()).discard(key)
                if row is not None:
                    index.setdefault(tuple(getattr(row, c) for c in cols), set()).add(key)

    def drain(self) -> dict[type[SQLModel], dict[Key, SQLModel | None]]:
        """Hand over the staged changes (``None`` = deleted) and start empty again."""
        staged, self.staged = self.staged, {}
        self._indexes = {}
        self._indexes_of = {}
        return staged


class MemoryReader:
    """Committed state held in dictionaries, with equality indexes built on first use."""

    def __init__(self) -> None:
        self.tables: dict[type[SQLModel], dict[Key, SQLModel]] = {}
        self._indexes: dict[tuple[type[SQLModel], tuple[str, ...]], dict[Key, set[Key]]] = {}

    def load(self, model: type[R], key: Key) -> R | None:
        return self.tables.get(model, {}).get(key)  # type: ignore[return-value]

    def load_where(self, model: type[R], where: Mapping[str, Any]) -> list[R]:
        cols = tuple(sorted(where))
        index = self._index(model, cols)
        keys = index.get(tuple(where[c] for c in cols), ())
        table = self.tables.get(model, {})
        return [table[k] for k in keys]  # type: ignore[misc]

    def _index(self, model: type[SQLModel], cols: tuple[str, ...]) -> dict[Key, set[Key]]:
        index = self._indexes.get((model, cols))
        if index is None:
            index = {}
            for k, row in self.tables.get(model, {}).items():
                index.setdefault(tuple(getattr(row, c) for c in cols), set()).add(k)
            self._indexes[(model, cols)] = index
        return index

    def apply(self, changes: Mapping[type[SQLModel], Mapping[Key, SQLModel | None]]) -> None:
        for model, rows in changes.items():
            table = self.tables.setdefault(model, {})
            indexes = [(cols, ix) for (m, cols), ix in self._indexes.items() if m is model]
            for key, row in rows.items():
                old = table.pop(key, None)
                for cols, ix in indexes:
                    if old is not None:
                        ix.get(tuple(getattr(old, c) for c in cols), set()).discard(key)
                    if row is not None:
                        ix.setdefault(tuple(getattr(row, c) for c in cols), set()).add(key)
                if row is not None:
                    table[key] = row

    def load_many(self, model: type[R], keys: Iterable[Key]) -> None:
        """Nothing to fetch: everything is in memory already."""

    def find_many(self, model: type[R], column: str, values: Iterable[Any]) -> None:
        """Nothing to fetch: everything is in memory already."""

    def rows(self) -> Iterator[SQLModel]:
        for table in self.tables.values():
            yield from table.values()
