"""The auditor's reads: state digests of the projection tables and witness cosignatures."""

from __future__ import annotations

from typing import Any

import msgspec


class TableSummary(msgspec.Struct, forbid_unknown_fields=True):
    """A projection table's row count and order-independent digest (hex)."""

    rows: int
    digest: str


class StateDigest(msgspec.Struct, forbid_unknown_fields=True):
    """The digest of every projection table at tree size ``size``."""

    size: int
    digest: str
    tables: dict[str, TableSummary]


class TableDigest(msgspec.Struct, forbid_unknown_fields=True):
    """One table's digest with its buckets' digests, to find where two states differ."""

    size: int
    table: str
    rows: int
    digest: str
    buckets: list[str]


class BucketRow(msgspec.Struct, forbid_unknown_fields=True):
    """A row in canonical form: its key (the primary key's values), hash and values."""

    key: list[Any]
    hash: str
    row: dict[str, Any]


class BucketRows(msgspec.Struct, forbid_unknown_fields=True):
    size: int
    table: str
    bucket: int
    rows: list[BucketRow]


class CosignatureStored(msgspec.Struct, forbid_unknown_fields=True):
    """A witness's cosignature kept (``stored`` false: it was held already)."""

    size: int
    witness: str
    stored: bool


class Cosignature(msgspec.Struct, forbid_unknown_fields=True):
    witness_key: str
    line: str


class Cosignatures(msgspec.Struct, forbid_unknown_fields=True):
    size: int
    items: list[Cosignature]
