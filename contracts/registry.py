"""Entry kinds and the rules that handle them.

Each kind has a payload schema (a ``msgspec.Struct``: no floats, unknown fields refused) and one
function ``(state, record, payload) -> changes`` that raises ``RuleViolation`` instead of
returning when the record may not be appended. An entry kind without a rule is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Generic, TypeVar

import msgspec
from sqlmodel import SQLModel

from contracts.errors import RuleViolation
from contracts.state import Change, Key, State, Where
from ledger.entry import parse_time

CHINA_STANDARD_TIME = timedelta(hours=8)

P = TypeVar("P", bound=msgspec.Struct)


@dataclass(frozen=True, slots=True)
class RecordContext:
    """What a rule may know of the record besides its payload; ``recorded_at`` is the only clock."""

    seq: int
    recorded_at: str
    entry_id: str
    kind: str
    actor: str
    key_id: str

    @property
    def local_date(self) -> date:
        """The record's date in China Standard Time (UTC+8, no daylight saving): the date
        notice periods, terms and validity are counted in."""
        return (parse_time(self.recorded_at) + CHINA_STANDARD_TIME).date()


RuleFn = Callable[[State, RecordContext, Any], Iterable[Change]]
Prefetch = Callable[[Any, RecordContext], Iterable[tuple[type[SQLModel], Key] | Where]]


@dataclass(frozen=True, slots=True)
class Rule(Generic[P]):
    kind: str
    payload_type: type[P]
    apply: Callable[[State, RecordContext, P], Iterable[Change]]
    prefetch: Prefetch | None = None

    def decode(self, payload: dict[str, Any]) -> P:
        refuse_unsafe_text(self.kind, payload, "$")
        try:
            return msgspec.convert(payload, self.payload_type, strict=True)
        except msgspec.ValidationError as e:
            raise RuleViolation("payload.invalid", f"{self.kind} payload: {e}", status=422) from e


RULES: dict[str, Rule[Any]] = {}

# Text neither PostgreSQL nor the canonical form can hold (NUL, lone surrogates), the other C0
# controls, DEL and the noncharacters U+FFFE/U+FFFF: refused in every payload string and key, so
# no field can forget it and no such value ever reaches the append transaction.
UNSAFE_TEXT = re.compile("[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def refuse_unsafe_text(kind: str, value: Any, path: str) -> None:
    if isinstance(value, str):
        if UNSAFE_TEXT.search(value):
            raise RuleViolation(
                "payload.invalid",
                f"{kind} payload: {path} holds a control character, a lone surrogate or a noncharacter",
                status=422,
            )
    elif isinstance(value, dict):
        for k, v in value.items():
            refuse_unsafe_text(kind, k, f"{path} key")
            refuse_unsafe_text(kind, v, f"{path}.{k}" if isinstance(k, str) else path)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            refuse_unsafe_text(kind, v, f"{path}[{i}]")


def rule(
    kind: str, payload_type: type[P], prefetch: Prefetch | None = None
) -> Callable[
    [Callable[[State, RecordContext, P], Iterable[Change]]],
    Callable[[State, RecordContext, P], Iterable[Change]],
]:
    """Register the rule for ``kind``; one rule per kind. ``prefetch(payload, record)`` names
    the rows the rule will read by key (``(model, key)``) and the ``find``s it will make
    (``Where``), so a database backend can fetch a whole batch's rows in one query per table
    and column instead of one per record (a hint: correctness never depends on it)."""

    def register(
        fn: Callable[[State, RecordContext, P], Iterable[Change]],
    ) -> Callable[[State, RecordContext, P], Iterable[Change]]:
        if kind in RULES:
            raise RuntimeError(f"two rules for {kind}")
        RULES[kind] = Rule(kind, payload_type, fn, prefetch)
        return fn

    return register


class Payload(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Base of payload schemas: unknown fields are refused."""
