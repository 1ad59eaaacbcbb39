"""Organisations and their keys: ``org.registered``, ``key.added``, ``key.revoked``.

Organisations form a tree: the county (the root, registered in the genesis record) registers its
townships, exchange centers, housing authority and developers; a township registers its village
collectives and may run a township exchange center. From rule version 3 an exchange center
registers bidding entities: cooperatives, family farms and companies that bid on its listings
with their own keys. A parent manages its children's keys; an organisation may add or revoke its
own. A key revoked at seq r signs nothing after r.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Literal

import msgspec
from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from contracts.errors import RuleViolation
from contracts.identifiers import (
    VILLAGE_COLLECTIVE_PREFIX,
    InvalidIdentifier,
    validate_area_code,
    validate_credit_code,
)
from contracts.registry import Payload, RecordContext, Signers, revision, rule
from contracts.state import Change, Key, Put, State, make
from ledger.errors import Category
from ledger.signing import PUBLIC_KEY_SIZE, decode_b64, key_id_of

ORG_TYPES = (
    "county",
    "township",
    "village_collective",
    "exchange_center",
    "developer",
    "housing_authority",
    "bidding_entity",
)
ROOT_TYPES = frozenset({"county"})
# Who registers whom under rule versions 1 and 2 (a version knows the types it can register).
CHILD_TYPES: dict[str, frozenset[str]] = {
    "county": frozenset({"township", "exchange_center", "developer", "housing_authority"}),
    "township": frozenset({"village_collective", "exchange_center"}),
}
# Version 3: an exchange center registers the bidding entities that bid on its listings.
CHILD_TYPES_V3: dict[str, frozenset[str]] = {**CHILD_TYPES, "exchange_center": frozenset({"bidding_entity"})}
MAX_KEYS_PER_ENTRY = 8

OrgId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
OrgName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
PublicKeyB64 = Annotated[str, msgspec.Meta(min_length=44, max_length=44)]
KeyId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{16}$")]
# Why a key is revoked: an enumerated value, never free text.
Reason = Literal["compromised", "lost", "retired", "superseded", "other"]


class Org(SQLModel, table=True):
    """A registered organisation (projection of ``org.registered``)."""

    __tablename__ = "orgs"
    id: str = Field(primary_key=True)
    name: str
    type: str = Field(index=True)
    parent_id: str | None = Field(default=None, index=True)
    registered_seq: int = Field(sa_type=BigInteger)
    area_code: str | None = Field(default=None, index=True)  # county 6, township 9, village 12
    credit_code: str | None = Field(default=None, index=True)  # unified social credit code


class OrgKey(SQLModel, table=True):
    """An organisation's public key and its history in the ledger."""

    __tablename__ = "org_keys"
    key_id: str = Field(primary_key=True)
    org_id: str = Field(index=True)
    public_key: str
    added_seq: int = Field(sa_type=BigInteger)
    revoked_seq: int | None = Field(default=None, sa_type=BigInteger)
    revoked_reason: str | None = None


TABLES = (Org, OrgKey)


class OrgRegistered(Payload, frozen=True):
    id: OrgId
    name: OrgName
    type: str
    parent: OrgId | None
    public_keys: Annotated[list[PublicKeyB64], msgspec.Meta(min_length=1, max_length=MAX_KEYS_PER_ENTRY)]
    area_code: str | None = None
    credit_code: str | None = None


class KeyAdded(Payload, frozen=True):
    org: OrgId
    public_key: PublicKeyB64


class KeyRevoked(Payload, frozen=True):
    key_id: KeyId
    reason: Reason | None = None


@lru_cache(maxsize=65536)
def public_key_bytes(text: str) -> bytes:
    try:
        return decode_b64(text, size=PUBLIC_KEY_SIZE, what="public key")
    except ValueError as e:
        raise RuleViolation("key.malformed", str(e)) from e


def is_self_or_ancestor(state: State, actor: str, org_id: str) -> bool:
    """True when ``actor`` is ``org_id`` or one of its ancestors."""
    current: str | None = org_id
    for _ in range(16):  # the tree is shallow; the bound guards against a corrupt cycle
        if current is None:
            return False
        if current == actor:
            return True
        org = state.get(Org, current)
        current = org.parent_id if org else None
    return False


def township_of(state: State, collective_id: str) -> str:
    """The township over a village (the village itself when it has no parent)."""
    village = state.get(Org, collective_id)
    return (village.parent_id if village else None) or collective_id


def new_keys(state: State, org_id: str, texts: list[str], seq: int) -> list[Change]:
    changes: list[Change] = []
    seen: set[str] = set()
    for text in texts:
        kid = key_id_of(public_key_bytes(text))
        if kid in seen or state.get(OrgKey, kid) is not None:
            raise RuleViolation("key.already_registered", f"key {kid} is already registered")
        seen.add(kid)
        changes.append(Put(make(OrgKey, key_id=kid, org_id=org_id, public_key=text, added_seq=seq)))
    return changes


def _key_ids(texts: list[str]) -> list[Key]:
    ids: list[Key] = []
    for text in texts:
        try:
            ids.append((key_id_of(decode_b64(text, size=PUBLIC_KEY_SIZE, what="public key")),))
        except ValueError:
            continue  # the rule itself refuses it
    return ids


def _org_rows(p: OrgRegistered, rec: RecordContext) -> list[tuple[type, Key]]:
    orgs = [(Org, (p.id,))] + ([(Org, (p.parent,))] if p.parent else [])
    return orgs + [(OrgKey, k) for k in _key_ids(p.public_keys)]


def _key_rows(p: KeyAdded, rec: RecordContext) -> list[tuple[type, Key]]:
    return [(Org, (p.org,)), (Org, (rec.actor,))] + [(OrgKey, k) for k in _key_ids([p.public_key])]


AREA_LEVEL = {"county": "county", "township": "township", "village_collective": "village"}
CREDIT_CODE_REQUIRED = frozenset({"village_collective", "developer", "bidding_entity"})


def check_codes(state: State, p: OrgRegistered, parent: Org | None) -> None:
    """Counties, townships and villages carry area codes extending their parent's; village
    collectives (prefix N2), developers and bidding entities carry a valid unified social credit
    code."""
    level = AREA_LEVEL.get(p.type)
    try:
        if level is not None:
            if p.area_code is None:
                raise InvalidIdentifier(f"a {p.type} needs its {level} area code")
            parent_code = parent.area_code if parent and level != "county" else None
            validate_area_code(p.area_code, level, parent_code)
        elif p.area_code is not None:
            raise InvalidIdentifier(f"a {p.type} has no area code of its own")
        if p.credit_code is None:
            if p.type in CREDIT_CODE_REQUIRED:
                raise InvalidIdentifier(f"a {p.type} needs its unified social credit code")
        else:
            validate_credit_code(p.credit_code)
            if p.type == "village_collective" and not p.credit_code.startswith(VILLAGE_COLLECTIVE_PREFIX):
                raise InvalidIdentifier(
                    f"a village collective's credit code starts {VILLAGE_COLLECTIVE_PREFIX}"
                )
    except InvalidIdentifier as e:
        raise RuleViolation("org.invalid_code", str(e)) from e
    if p.area_code is not None and state.find(Org, area_code=p.area_code):
        raise RuleViolation("org.code_taken", f"area code {p.area_code} is already registered")
    if p.credit_code is not None and state.find(Org, credit_code=p.credit_code):
        raise RuleViolation("org.code_taken", f"credit code {p.credit_code} is already registered")


def registered_org(
    state: State, rec: RecordContext, p: OrgRegistered, child_types: Mapping[str, frozenset[str]]
) -> list[Change]:
    """``org.registered`` under a rule version whose parents register ``child_types`` (parent
    type -> the child types it may register); the types it knows are the root's and those."""
    known = tuple(t for t in ORG_TYPES if t in ROOT_TYPES or any(t in c for c in child_types.values()))
    if p.type not in known:
        raise RuleViolation("org.unknown_type", f"type must be one of {known}, found {p.type!r}")
    if state.get(Org, p.id) is not None:
        raise RuleViolation("org.already_registered", f"organisation {p.id} is already registered")
    if p.parent is None:
        if rec.seq != 0:
            raise RuleViolation("org.root_exists", "only the genesis record registers a root")
        if p.type not in ROOT_TYPES or rec.actor != p.id:
            raise RuleViolation("org.bad_root", f"the root is a {sorted(ROOT_TYPES)} acting for itself")
    else:
        parent = state.get(Org, p.parent)
        if parent is None:
            raise RuleViolation("org.unknown_parent", f"parent {p.parent} is not registered")
        if rec.actor != p.parent:
            raise RuleViolation(
                "org.not_authorised",
                f"{p.type} {p.id} is registered by its parent {p.parent}, not {rec.actor}",
            )
        if p.type not in child_types.get(parent.type, frozenset()):
            raise RuleViolation(
                "org.type_not_allowed",
                f"a {parent.type} cannot register a {p.type}",
            )
    parent_org = state.get(Org, p.parent) if p.parent else None
    check_codes(state, p, parent_org)
    org = make(
        Org,
        id=p.id,
        name=p.name,
        type=p.type,
        parent_id=p.parent,
        registered_seq=rec.seq,
        area_code=p.area_code,
        credit_code=p.credit_code,
    )
    return [Put(org), *new_keys(state, p.id, p.public_keys, rec.seq)]


@rule(
    "org.registered",
    OrgRegistered,
    prefetch=_org_rows,
    signed_by=Signers(
        ("county", "township"), "the parent organisation (the root registers itself at genesis)"
    ),
)
def register_org(state: State, rec: RecordContext, p: OrgRegistered) -> list[Change]:
    """A parent registers a child organisation, its keys and codes (the root itself, at genesis)."""
    return registered_org(state, rec, p, CHILD_TYPES)


@revision(
    register_org,
    version=3,
    signed_by=Signers(
        ("county", "township", "exchange_center"),
        "the parent organisation (the root registers itself at genesis; an exchange centre its"
        " bidding entities)",
    ),
)
def register_org_v3(state: State, rec: RecordContext, p: OrgRegistered) -> list[Change]:
    """Version 3: an exchange centre registers bidding entities (a cooperative, a family farm, a
    company, by its unified social credit code and without an area code), which bid on its
    listings with their own keys; everything else as version 1."""
    return registered_org(state, rec, p, CHILD_TYPES_V3)


@rule(
    "key.added",
    KeyAdded,
    prefetch=_key_rows,
    signed_by=Signers(ORG_TYPES, "the organisation itself or an ancestor of it"),
)
def add_key(state: State, rec: RecordContext, p: KeyAdded) -> list[Change]:
    """An organisation, or an ancestor of it, adds a public key to it."""
    if state.get(Org, p.org) is None:
        raise RuleViolation("org.unknown", f"organisation {p.org} is not registered")
    if not is_self_or_ancestor(state, rec.actor, p.org):
        raise RuleViolation(
            "org.not_authorised",
            f"{rec.actor} may not manage the keys of {p.org}",
            category=Category.FORBIDDEN,
        )
    return new_keys(state, p.org, [p.public_key], rec.seq)


@rule(
    "key.revoked",
    KeyRevoked,
    prefetch=lambda p, rec: [(OrgKey, (p.key_id,))],
    signed_by=Signers(ORG_TYPES, "the key's organisation itself or an ancestor of it"),
)
def revoke_key(state: State, rec: RecordContext, p: KeyRevoked) -> list[Change]:
    """An organisation, or an ancestor of it, revokes one of its keys, which signs nothing after this seq."""
    key = state.get(OrgKey, p.key_id)
    if key is None:
        raise RuleViolation("key.unknown", f"key {p.key_id} is not registered")
    if key.revoked_seq is not None:
        raise RuleViolation("key.already_revoked", f"key {p.key_id} was revoked at seq {key.revoked_seq}")
    if not is_self_or_ancestor(state, rec.actor, key.org_id):
        raise RuleViolation(
            "org.not_authorised",
            f"{rec.actor} may not revoke keys of {key.org_id}",
            category=Category.FORBIDDEN,
        )
    revoked = key.model_copy(update={"revoked_seq": rec.seq, "revoked_reason": p.reason or None})
    return [Put(revoked)]
