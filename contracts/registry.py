"""What a rule is: an entry kind's payload schema and its function, from one rule version on.

Each kind has a payload schema (a ``msgspec.Struct``: no floats, unknown fields refused) and one
function ``(state, record, payload) -> changes`` that raises ``RuleViolation`` instead of
returning when the record may not be appended. ``@rule`` makes a ``Rule`` and registers
nothing: ``contracts.rulebook`` lists every rule of every version, and an entry kind the
rulebook does not list under the version in force is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

import msgspec
from sqlmodel import SQLModel

from contracts.errors import RuleViolation
from contracts.state import Change, Key, State, Where
from ledger.entry import parse_time
from ledger.errors import Category

CHINA_STANDARD_TIME = timedelta(hours=8)

P = TypeVar("P", bound=msgspec.Struct)


def china_date(t: datetime) -> date:
    """The date of instant ``t`` in China Standard Time: the day the ledger dates things by."""
    return (t + CHINA_STANDARD_TIME).date()


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
        return china_date(parse_time(self.recorded_at))


@dataclass(frozen=True, slots=True)
class Signers:
    """Who may sign an entry kind: the organisation ``types`` (of ``contracts.orgs.ORG_TYPES``)
    and, as a short ``role`` phrase, which organisation of those types ("the household's village
    collective", "the parent organisation"). A declaration beside the rule, not a check: the
    rule's own code decides, and the rule tests prove the two agree."""

    types: tuple[str, ...]
    role: str

    def __post_init__(self) -> None:
        if not self.types or len(set(self.types)) != len(self.types):
            raise ValueError(f"signers name one or more organisation types, each once: {self.types}")
        if not self.role.strip():
            raise ValueError("signers need a role phrase")


RuleFn = Callable[[State, RecordContext, Any], Iterable[Change]]
Prefetch = Callable[[Any, RecordContext], Iterable[tuple[type[SQLModel], Key] | Where]]


@dataclass(frozen=True, slots=True)
class Rule(Generic[P]):
    """The rule for ``kind`` from rule ``version`` on (until a later version replaces it).
    Once a ledger may have used a rule, its code is never edited: a change is a new ``Rule``
    of the same kind with a higher version, beside it. ``signed_by`` declares who may sign the
    kind (every rule the rulebook lists declares it; ``None`` only for rules made in tests)."""

    kind: str
    payload_type: type[P]
    apply: Callable[[State, RecordContext, P], Iterable[Change]]
    prefetch: Prefetch | None = None
    version: int = 1
    signed_by: Signers | None = None

    def decode(self, payload: dict[str, Any]) -> P:
        refuse_unsafe_text(self.kind, payload, "$")
        try:
            return msgspec.convert(payload, self.payload_type, strict=True)
        except msgspec.ValidationError as e:
            raise RuleViolation(
                "payload.invalid", f"{self.kind} payload: {e}", category=Category.INVALID
            ) from e


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
                category=Category.INVALID,
            )
    elif isinstance(value, dict):
        for k, v in value.items():
            refuse_unsafe_text(kind, k, f"{path} key")
            refuse_unsafe_text(kind, v, f"{path}.{k}" if isinstance(k, str) else path)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            refuse_unsafe_text(kind, v, f"{path}[{i}]")


def rule(
    kind: str,
    payload_type: type[P],
    prefetch: Prefetch | None = None,
    *,
    signed_by: Signers,
    version: int = 1,
) -> Callable[[Callable[[State, RecordContext, P], Iterable[Change]]], Rule[P]]:
    """Make the rule for ``kind`` from rule ``version`` on (the decorated name becomes the
    ``Rule``; ``contracts.rulebook`` lists it), signed by ``signed_by``; the decorated
    function's docstring says in one line what the kind records. ``prefetch(payload, record)``
    names the rows the rule will read by key (``(model, key)``) and the ``find``s it will make
    (``Where``), so a database backend can fetch a whole batch's rows in one query per table
    and column instead of one per record (a hint: correctness never depends on it)."""

    def make_rule(fn: Callable[[State, RecordContext, P], Iterable[Change]]) -> Rule[P]:
        return Rule(kind, payload_type, fn, prefetch, version, signed_by)

    return make_rule


def revision(
    base: Rule[P], *, version: int, signed_by: Signers, reads: Prefetch | None = None
) -> Callable[[Callable[[State, RecordContext, P], Iterable[Change]]], Rule[P]]:
    """Make a later version of ``base``'s kind with the same payload schema, signed by
    ``signed_by``. The new function usually runs ``base.apply`` (rules are pure, so its
    changes are only kept) and then checks what the new version adds; it reads what ``base``
    reads, and ``reads`` besides."""

    def prefetch(payload: Any, rec: RecordContext) -> list[tuple[type[SQLModel], Key] | Where]:
        hints = list(base.prefetch(payload, rec)) if base.prefetch else []
        return hints + (list(reads(payload, rec)) if reads else [])

    if version <= base.version:
        raise ValueError(f"a revision of {base.kind} needs a version above {base.version}")

    def make_rule(fn: Callable[[State, RecordContext, P], Iterable[Change]]) -> Rule[P]:
        return Rule(base.kind, base.payload_type, fn, prefetch, version, signed_by)

    return make_rule


class Payload(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Base of payload schemas: unknown fields are refused."""
