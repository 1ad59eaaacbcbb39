"""Admission of one signed entry as record ``seq``: the rule version in force, the signature
against the key history, then the entry kind's rule under that version. The live appender and
the offline verifier both call ``admit``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from contracts import orgs
from contracts.errors import RuleViolation
from contracts.registry import RecordContext, Rule
from contracts.rulebook import RULEBOOK, RULES_ROW, RulesInForce, version_in_force
from contracts.state import Change, Key, StagedState, State, Where
from ledger.entry import SignedEntry
from ledger.errors import Category
from ledger.signing import entry_message, key_id_of, verify_signature


def signing_key(state: State, signed: SignedEntry, seq: int) -> bytes:
    """The public key that must have signed ``signed`` at ``seq``, or ``RuleViolation``."""
    key = state.get(orgs.OrgKey, signed.key_id)
    if key is None:
        if seq == 0:
            return _genesis_key(signed)
        raise RuleViolation("signature.unknown_key", f"key {signed.key_id} is not registered")
    if key.revoked_seq is not None:
        raise RuleViolation(
            "signature.revoked_key",
            f"key {signed.key_id} was revoked at seq {key.revoked_seq}",
            category=Category.FORBIDDEN,
        )
    if key.org_id != signed.actor:
        raise RuleViolation(
            "signature.key_not_actors",
            f"key {signed.key_id} belongs to {key.org_id}, not {signed.actor}",
            category=Category.FORBIDDEN,
        )
    return orgs.public_key_bytes(key.public_key)


def _genesis_key(signed: SignedEntry) -> bytes:
    """The genesis record registers the root and is signed by one of the root's own keys."""
    payload: dict[str, Any] = signed.payload
    if signed.kind != "org.registered" or payload.get("parent") is not None:
        raise RuleViolation("ledger.bad_genesis", "record 0 must register the root organisation")
    for text in payload.get("public_keys") or ():
        raw = orgs.public_key_bytes(str(text))
        if key_id_of(raw) == signed.key_id:
            return raw
    raise RuleViolation("signature.unknown_key", "the genesis entry is not signed by a root key")


class Decodings:
    """Payloads decoded once per batch: prefetch and admission both need them. Keyed by the
    entry object and the rule, since another rule version may have another schema."""

    def __init__(self) -> None:
        self._done: dict[tuple[int, int], tuple[SignedEntry, Rule[Any], Any]] = {}

    def payload(self, rule: Rule[Any], signed: SignedEntry) -> Any:
        hit = self._done.get((id(signed), id(rule)))
        if hit is not None and hit[0] is signed and hit[1] is rule:
            return hit[2]
        value = rule.decode(signed.payload)
        self._done[(id(signed), id(rule))] = (signed, rule, value)
        return value

    def remember(self, rule: Rule[Any], signed: SignedEntry, value: Any) -> None:
        """``value`` is ``rule.decode(signed.payload)``, decoded earlier (``reads_ahead``)."""
        self._done[(id(signed), id(rule))] = (signed, rule, value)


@dataclass
class Wanted:
    """What admitting a batch will read: rows by key, and rows by one column's value."""

    keys: dict[type, set[Key]] = field(default_factory=dict)
    finds: dict[tuple[type, str], set[Any]] = field(default_factory=dict)


Hint = tuple[type, Key] | Where


@dataclass(frozen=True, slots=True)
class ReadsAhead:
    """What admitting one entry under rule ``version`` will read, found before its batch
    (outside the writer lock, while its signature is checked): the rule in force for its kind
    then, its decoded payload (None: the rule does not decode it, and admission says why) and
    the rule's prefetch hints. Pure functions of the entry and the version, so they hold as
    long as that version is in force."""

    version: int
    rule: Rule[Any] | None
    payload: Any
    hints: tuple[Hint, ...]


def reads_ahead(signed: SignedEntry, version: int) -> ReadsAhead | None:
    """``ReadsAhead`` for ``signed`` under ``version``; None if a rule's prefetch failed (a
    bug), which is then met again, and answered, where the batch is admitted."""
    rule = RULEBOOK.in_force(signed.kind, version)
    if rule is None:
        return ReadsAhead(version, None, None, ())
    try:
        payload = rule.decode(signed.payload)
    except RuleViolation:
        return ReadsAhead(version, rule, None, ())
    except Exception:
        return None
    if rule.prefetch is None:
        return ReadsAhead(version, rule, payload, ())
    ctx = RecordContext(0, "", signed.id, signed.kind, signed.actor, signed.key_id)
    try:
        return ReadsAhead(version, rule, payload, tuple(rule.prefetch(payload, ctx)))
    except Exception:
        return None


def rows_to_prefetch(
    batch: list[SignedEntry],
    version: int,
    decodings: Decodings,
    ahead: list[ReadsAhead | None] | None = None,
) -> Wanted:
    """The rows admitting ``batch`` under rule ``version`` will read: the rule version row,
    signing keys and each rule's hints (a hint only: an adoption inside the batch changes
    the rules of the entries after it, not what they may read). ``ahead``, one per entry if
    given: what ``reads_ahead`` found for it, used when found under ``version``."""
    wanted = Wanted({RulesInForce: {(RULES_ROW,)}, orgs.OrgKey: {(s.key_id,) for s in batch}})
    for index, signed in enumerate(batch):
        found = ahead[index] if ahead is not None else None
        if found is not None and found.version == version:
            hints: Iterable[Hint] = found.hints
            if found.rule is not None and found.payload is not None:
                decodings.remember(found.rule, signed, found.payload)
        else:
            hints = _hints(signed, version, decodings)
        for hint in hints:
            if isinstance(hint, Where):
                wanted.finds.setdefault((hint.model, hint.column), set()).add(hint.value)
            else:
                model, key = hint
                wanted.keys.setdefault(model, set()).add(key)
    return wanted


def _hints(signed: SignedEntry, version: int, decodings: Decodings) -> Iterable[Hint]:
    rule = RULEBOOK.in_force(signed.kind, version)
    if rule is None or rule.prefetch is None:
        return ()
    try:
        payload = decodings.payload(rule, signed)
    except RuleViolation:
        return ()
    return rule.prefetch(payload, RecordContext(0, "", signed.id, signed.kind, signed.actor, signed.key_id))


@dataclass(frozen=True, slots=True)
class Admitted:
    """What admitting a record did: its state changes (staged), and the rule version it was
    admitted under."""

    changes: list[Change]
    version: int


def rule_in_force(state: State, kind: str) -> tuple[Rule[Any], int]:
    """The rule for ``kind`` under the version in force, or ``RuleViolation``."""
    version = version_in_force(state)
    rule = RULEBOOK.in_force(kind, version)
    if rule is not None:
        return rule, version
    first = RULEBOOK.first_version(kind)
    if first is not None:
        raise RuleViolation(
            "entry.kind_not_in_force",
            f"entry kind {kind!r} comes with rule version {first}; version {version} is in force",
        )
    raise RuleViolation("entry.unknown_kind", f"no rule handles entry kind {kind!r}")


def admit(
    state: StagedState,
    signed: SignedEntry,
    seq: int,
    recorded_at: str,
    *,
    checked_key: bytes | None = None,
    decodings: Decodings | None = None,
) -> Admitted:
    """Check ``signed`` as record ``seq`` under the rule version in force, stage its changes
    and return them; on ``RuleViolation`` nothing is staged, so a rejected entry leaves no
    trace in the batch. ``checked_key`` is the public key a signature check made ahead found
    the signature valid for: the check is not repeated when it is the key that must sign."""
    rule, version = rule_in_force(state, signed.kind)
    public_key = signing_key(state, signed, seq)
    if checked_key != public_key and not verify_signature(
        public_key, signed.signature, entry_message(signed.entry_bytes)
    ):
        raise RuleViolation(
            "signature.invalid",
            f"signature does not verify with key {signed.key_id}",
            category=Category.INVALID,
        )
    payload = (decodings or Decodings()).payload(rule, signed)
    ctx = RecordContext(seq, recorded_at, signed.id, signed.kind, signed.actor, signed.key_id)
    changes = list(rule.apply(state, ctx, payload))
    state.stage(changes)
    return Admitted(changes, version)
