"""Admission of one signed entry as record ``seq``: signature against the key history, then
the entry kind's rule. The live appender and the offline verifier both call ``admit``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts import (
    assets,
    certificates,
    dividends,
    homesteads,
    households,
    land,
    membership,
    orgs,
    parties,
    policy,
    shares,
)
from contracts.errors import RuleViolation
from contracts.registry import RULES, RecordContext, Rule
from contracts.state import Change, Key, StagedState, State, Where
from ledger.entry import SignedEntry
from ledger.signing import entry_message, key_id_of, verify_signature

# Rule modules register their kinds on import; the list is the catalogue of entry kinds.
RULE_MODULES = (
    orgs,
    policy,
    parties,
    households,
    membership,
    land,
    homesteads,
    certificates,
    assets,
    shares,
    dividends,
)
PROJECTION_MODELS = tuple(model for module in RULE_MODULES for model in module.TABLES)


def signing_key(state: State, signed: SignedEntry, seq: int) -> bytes:
    """The public key that must have signed ``signed`` at ``seq``, or ``RuleViolation``."""
    key = state.get(orgs.OrgKey, signed.key_id)
    if key is None:
        if seq == 0:
            return _genesis_key(signed)
        raise RuleViolation("signature.unknown_key", f"key {signed.key_id} is not registered")
    if key.revoked_seq is not None:
        raise RuleViolation(
            "signature.revoked_key", f"key {signed.key_id} was revoked at seq {key.revoked_seq}", status=403
        )
    if key.org_id != signed.actor:
        raise RuleViolation(
            "signature.key_not_actors",
            f"key {signed.key_id} belongs to {key.org_id}, not {signed.actor}",
            status=403,
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


def decoded_payload(rule: Rule[Any], signed: SignedEntry) -> Any:
    if signed.decoded is None:
        signed.decoded = rule.decode(signed.payload)
    return signed.decoded


@dataclass
class Wanted:
    """What admitting a batch will read: rows by key, and rows by one column's value."""

    keys: dict[type, set[Key]] = field(default_factory=dict)
    finds: dict[tuple[type, str], set[Any]] = field(default_factory=dict)


def rows_to_prefetch(batch: list[SignedEntry]) -> Wanted:
    """The rows admitting ``batch`` will read: signing keys and each rule's hints."""
    wanted = Wanted({orgs.OrgKey: {(s.key_id,) for s in batch}})
    for signed in batch:
        rule = RULES.get(signed.kind)
        if rule is None or rule.prefetch is None:
            continue
        try:
            payload = decoded_payload(rule, signed)
        except RuleViolation:
            continue
        ctx = RecordContext(0, "", signed.id, signed.kind, signed.actor, signed.key_id)
        for hint in rule.prefetch(payload, ctx):
            if isinstance(hint, Where):
                wanted.finds.setdefault((hint.model, hint.column), set()).add(hint.value)
            else:
                model, key = hint
                wanted.keys.setdefault(model, set()).add(key)
    return wanted


def admit(state: StagedState, signed: SignedEntry, seq: int, recorded_at: str) -> list[Change]:
    """Check ``signed`` as record ``seq``, stage its changes and return them; on
    ``RuleViolation`` nothing is staged, so a rejected entry leaves no trace in the batch."""
    rule = RULES.get(signed.kind)
    if rule is None:
        raise RuleViolation("entry.unknown_kind", f"no rule handles entry kind {signed.kind!r}")
    public_key = signing_key(state, signed, seq)
    if signed.verified_with != public_key and not verify_signature(
        public_key, signed.signature, entry_message(signed.entry_bytes)
    ):
        raise RuleViolation(
            "signature.invalid", f"signature does not verify with key {signed.key_id}", status=422
        )
    payload = decoded_payload(rule, signed)
    ctx = RecordContext(seq, recorded_at, signed.id, signed.kind, signed.actor, signed.key_id)
    changes = list(rule.apply(state, ctx, payload))
    state.stage(changes)
    return changes
