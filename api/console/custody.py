"""Organisations' private keys held for their console users, encrypted at rest.

Each key is its 32-byte Ed25519 seed sealed with AES-256-GCM under the key-encryption key
(KEK), a fresh 96-bit nonce per key, the associated data ``org_id|key_id`` binding the
ciphertext to its row: a seed moved to another organisation's row, or to another key id, does
not open. The KEK is 32 random bytes from ``RURAL_LEDGER_KEK`` (standard base64) or else the file
``RURAL_LEDGER_KEK_FILE`` names (default ``<home>/console.kek``, made 0600 by ``rural-ledger
users keys init``); it is never written to the database. A row names the KEK that sealed it by
``kek_id`` (the first 16 hex of the KEK's SHA-256), so that a wrong KEK is told apart from a
tampered row: ``console.kek_mismatch`` versus ``console.key_corrupt``, never a garbage key.

Which key signs is the ledger's word, not this table's: ``load`` joins the ``org_keys``
projection and takes the newest held key the ledger lists as the organisation's own and not
revoked. API clients keep bringing their own keys; nothing here touches them.

Crash states and their answers:

- A key stored but not yet listed in the ledger (imported before its ``key.added`` or
  ``org.registered`` is recorded, or the recording failed): ``load`` never picks it, so it signs
  nothing until the ledger lists it; then it is the organisation's newest current key. Storing
  first and registering after is the safe order: the other one can crash leaving the ledger
  listing a key that no one holds.
- A key revoked in the ledger after it was stored: ``load`` passes over it (the row stays; it
  is history). A revocation recorded between ``load`` and the append is caught by admission
  (a key revoked at seq r signs nothing after r): the act is refused and nothing is stored.
- A KEK rotated: rows sealed under the previous KEK answer ``console.kek_mismatch`` naming both
  KEK ids until they are resealed. ``Custody`` takes the previous KEKs too, and ``reseal``
  moves every row to the current one in one transaction (delete and insert: the service role may
  not update the table), so a crash leaves every row under the old KEK or every row under the
  new, never a mixture the KEKs in hand cannot open. Keep the old KEK until ``users keys list``
  shows no row under it.
- A KEK file half written: ``create_kek_file`` writes a temporary file (0600, fsynced) and links
  it into place, so the KEK file is whole or absent, and an existing one is never replaced.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError as DatabaseIntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from api.home import Home
from ledger.errors import Category, Rejection
from ledger.signing import KeyFile, SigningKey

KEK_ENV = "RURAL_LEDGER_KEK"
KEK_FILE_ENV = "RURAL_LEDGER_KEK_FILE"
KEK_FILE_NAME = "console.kek"
KEK_SIZE = 32
NONCE_SIZE = 12
SEED_SIZE = 32


class CustodyError(Rejection):
    """Why a held key cannot be stored or used: ``console.kek_missing``, ``console.kek_invalid``,
    ``console.kek_mismatch`` (the row was sealed under another KEK), ``console.key_corrupt``
    (the row does not open under the KEK that sealed it: tampered), ``console.no_key``,
    ``console.wrong_org``, ``console.key_revoked``, ``console.key_exists``."""

    def __init__(self, code: str, message: str, category: Category) -> None:
        super().__init__(code, message, category=category)


@dataclass(frozen=True)
class KeyEncryptionKey:
    """The console's KEK: 32 secret bytes (never shown) and the id rows name it by."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != KEK_SIZE:
            raise CustodyError(
                "console.kek_invalid",
                f"a key-encryption key is {KEK_SIZE} bytes, found {len(self.secret)}",
                Category.FAILED,
            )

    @property
    def kek_id(self) -> str:
        return hashlib.sha256(self.secret).hexdigest()[:16]

    @classmethod
    def generate(cls) -> KeyEncryptionKey:
        return cls(secrets.token_bytes(KEK_SIZE))

    @classmethod
    def from_text(cls, text: str, *, source: str) -> KeyEncryptionKey:
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError) as e:
            raise CustodyError(
                "console.kek_invalid", f"{source} is not standard base64", Category.FAILED
            ) from e
        if len(raw) != KEK_SIZE:
            raise CustodyError(
                "console.kek_invalid",
                f"{source} holds {len(raw)} bytes, a KEK is {KEK_SIZE}",
                Category.FAILED,
            )
        return cls(raw)

    def as_text(self) -> str:
        return base64.b64encode(self.secret).decode("ascii")


def kek_file(home: Home) -> Path:
    """Where the KEK file is: ``RURAL_LEDGER_KEK_FILE``, else ``<home>/console.kek``."""
    named = os.environ.get(KEK_FILE_ENV)
    return Path(named) if named else home.root / KEK_FILE_NAME


def configured_kek(home: Home) -> KeyEncryptionKey:
    """The KEK from ``RURAL_LEDGER_KEK``, else from the KEK file."""
    value = os.environ.get(KEK_ENV)
    if value:
        return KeyEncryptionKey.from_text(value, source=KEK_ENV)
    path = kek_file(home)
    try:
        text_ = path.read_text(encoding="ascii")
    except FileNotFoundError as e:
        raise CustodyError(
            "console.kek_missing",
            f"no key-encryption key: set {KEK_ENV}, or make {path} with `rural-ledger users keys init`",
            Category.FAILED,
        ) from e
    except (OSError, UnicodeDecodeError) as e:
        raise CustodyError("console.kek_invalid", f"cannot read {path}: {e}", Category.FAILED) from e
    if path.stat().st_mode & 0o077:
        raise CustodyError(
            "console.kek_invalid",
            f"{path} is readable by others (mode {path.stat().st_mode & 0o777:o}): chmod 600 it",
            Category.FAILED,
        )
    return KeyEncryptionKey.from_text(text_, source=str(path))


def create_kek_file(path: Path) -> KeyEncryptionKey:
    """A new KEK in ``path`` (mode 0600); ``FileExistsError`` if there is one already."""
    if path.exists():
        raise FileExistsError(f"{path} exists; a key-encryption key is never overwritten")
    kek = KeyEncryptionKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(kek.as_text() + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.link(partial, path)  # fails if another init won the race: never replaced
    finally:
        partial.unlink(missing_ok=True)
    return kek


def associated_data(org_id: str, key_id: str) -> bytes:
    return f"{org_id}|{key_id}".encode()


@dataclass(frozen=True)
class SealedKey:
    """A row of ``console_org_keys``: a seed sealed for one organisation under one KEK."""

    key_id: str
    org_id: str
    nonce: bytes
    ciphertext: bytes
    kek_id: str


def seal(kek: KeyEncryptionKey, key: KeyFile) -> SealedKey:
    nonce = secrets.token_bytes(NONCE_SIZE)
    ad = associated_data(key.org, key.key.key_id)
    ciphertext = AESGCM(kek.secret).encrypt(nonce, key.key.seed, ad)
    return SealedKey(key.key.key_id, key.org, nonce, ciphertext, kek.kek_id)


def unseal(keks: Sequence[KeyEncryptionKey], sealed: SealedKey) -> KeyFile:
    """The key file a row holds, opened with the KEK of ``keks`` that sealed it."""
    kek = next((k for k in keks if k.kek_id == sealed.kek_id), None)
    if kek is None:
        raise CustodyError(
            "console.kek_mismatch",
            f"key {sealed.key_id} of {sealed.org_id} was sealed under KEK {sealed.kek_id}, "
            f"this service holds {', '.join(k.kek_id for k in keks)}: set the KEK it was sealed with",
            Category.FAILED,
        )
    try:
        seed = AESGCM(kek.secret).decrypt(
            sealed.nonce, sealed.ciphertext, associated_data(sealed.org_id, sealed.key_id)
        )
    except (InvalidTag, ValueError) as e:  # ValueError: a nonce of the wrong length
        raise corrupt(sealed, "it does not open under the KEK that sealed it") from e
    if len(seed) != SEED_SIZE:
        raise corrupt(sealed, f"it holds {len(seed)} bytes, a seed is {SEED_SIZE}")
    key = SigningKey.from_seed(seed)
    if key.key_id != sealed.key_id:
        raise corrupt(sealed, f"its seed is the key {key.key_id}")
    return KeyFile(sealed.org_id, key)


def corrupt(sealed: SealedKey, why: str) -> CustodyError:
    return CustodyError(
        "console.key_corrupt",
        f"the held key {sealed.key_id} of {sealed.org_id} is corrupt: {why}",
        Category.INTEGRITY,
    )


@dataclass(frozen=True)
class HeldKey:
    """What ``users keys list`` shows of a held key: never its secret. ``ledger`` says what the
    ledger lists it as: ``current``, ``revoked``, ``unlisted`` or ``another_org``."""

    key_id: str
    org_id: str
    kek_id: str
    added_at: datetime
    ledger: str


_INSERT = text(
    "INSERT INTO console_org_keys (key_id, org_id, nonce, ciphertext, kek_id, added_at) "
    "VALUES (:key_id, :org_id, :nonce, :ciphertext, :kek_id, :added_at)"
)
_LEDGER_KEY = text("SELECT org_id, revoked_seq FROM org_keys WHERE key_id = :key_id")
_CURRENT = text(
    "SELECT c.key_id, c.org_id, c.nonce, c.ciphertext, c.kek_id FROM console_org_keys c "
    "JOIN org_keys k ON k.key_id = c.key_id AND k.org_id = c.org_id "
    "WHERE c.org_id = :org_id AND k.revoked_seq IS NULL "
    "ORDER BY k.added_seq DESC, c.added_at DESC LIMIT 1"
)
_HELD = text(
    "SELECT c.key_id, c.org_id, c.kek_id, c.added_at, k.org_id AS ledger_org, k.revoked_seq "
    "FROM console_org_keys c LEFT JOIN org_keys k ON k.key_id = c.key_id "
    "WHERE c.org_id = :org_id OR CAST(:org_id AS text) IS NULL ORDER BY c.org_id, c.added_at, c.key_id"
)
_ALL_SEALED = text("SELECT key_id, org_id, nonce, ciphertext, kek_id FROM console_org_keys ORDER BY key_id")
_DELETE = text("DELETE FROM console_org_keys WHERE key_id = :key_id RETURNING added_at")


@dataclass(frozen=True)
class Custody:
    """The keys held for console users: sealed with ``kek``; rows sealed under one of
    ``previous`` (a rotated KEK) still open until ``reseal`` moves them to ``kek``."""

    kek: KeyEncryptionKey
    previous: tuple[KeyEncryptionKey, ...] = ()

    @classmethod
    def configured(cls, home: Home) -> Custody:
        """The custody the running service uses: the configured KEK (``configured_kek``)."""
        return cls(configured_kek(home))

    @property
    def keks(self) -> tuple[KeyEncryptionKey, ...]:
        return (self.kek, *self.previous)

    async def store(self, conn: AsyncConnection, org_id: str, key: KeyFile, now: datetime) -> SealedKey:
        """Hold ``key`` for ``org_id``'s users, in the caller's transaction. Refused: a key file
        of another organisation, a key the ledger lists for another organisation or as
        revoked, a key already held. A key the ledger does not list yet is held (and not used
        until it is listed)."""
        if key.org != org_id:
            raise CustodyError(
                "console.wrong_org", f"the key file is {key.org!r}'s, not {org_id!r}'s", Category.FORBIDDEN
            )
        listed = (await conn.execute(_LEDGER_KEY, {"key_id": key.key.key_id})).first()
        if listed is not None and listed.org_id != org_id:
            raise CustodyError(
                "console.wrong_org",
                f"the ledger lists key {key.key.key_id} as {listed.org_id}'s, not {org_id}'s",
                Category.FORBIDDEN,
            )
        if listed is not None and listed.revoked_seq is not None:
            raise CustodyError(
                "console.key_revoked",
                f"the ledger revoked key {key.key.key_id} at seq {listed.revoked_seq}",
                Category.CONFLICT,
            )
        sealed = seal(self.kek, key)
        try:
            async with conn.begin_nested():
                await conn.execute(_INSERT, {**asdict(sealed), "added_at": now})
        except DatabaseIntegrityError as e:
            raise CustodyError(
                "console.key_exists", f"key {key.key.key_id} is already held", Category.CONFLICT
            ) from e
        return sealed

    async def load(self, conn: AsyncConnection, org_id: str) -> KeyFile:
        """The key ``org_id``'s users sign with: its newest held key that the ledger lists as
        its own and not revoked. Only ever a key of ``org_id``: the query asks the row and the
        ledger for that organisation, and the associated data binds the ciphertext to it."""
        row = (await conn.execute(_CURRENT, {"org_id": org_id})).first()
        if row is None:
            raise CustodyError(
                "console.no_key",
                f"no key is held for {org_id} that the ledger lists as current: "
                f"`rural-ledger users keys import {org_id} --key FILE` holds one",
                Category.NOT_FOUND,
            )
        key = unseal(self.keks, SealedKey(row.key_id, row.org_id, row.nonce, row.ciphertext, row.kek_id))
        if key.org != org_id:  # the query's own condition, kept where it matters
            raise CustodyError("console.wrong_org", f"key {row.key_id} is not {org_id}'s", Category.FORBIDDEN)
        return key

    async def reseal(self, conn: AsyncConnection) -> int:
        """Move every row sealed under a previous KEK to the current one, in the caller's
        transaction (all rows or none, whatever the crash); the number of rows moved."""
        moved = 0
        for row in (await conn.execute(_ALL_SEALED)).all():
            if row.kek_id == self.kek.kek_id:
                continue
            key = unseal(self.keks, SealedKey(row.key_id, row.org_id, row.nonce, row.ciphertext, row.kek_id))
            added_at = (await conn.execute(_DELETE, {"key_id": row.key_id})).scalar_one()
            await conn.execute(_INSERT, {**asdict(seal(self.kek, key)), "added_at": added_at})
            moved += 1
        return moved


async def held_keys(conn: AsyncConnection, org_id: str | None = None) -> list[HeldKey]:
    """The held keys (of ``org_id``, or all), with what the ledger lists each as."""
    rows = (await conn.execute(_HELD, {"org_id": org_id})).all()
    return [
        HeldKey(
            r.key_id,
            r.org_id,
            r.kek_id,
            r.added_at,
            "unlisted"
            if r.ledger_org is None
            else "another_org"
            if r.ledger_org != r.org_id
            else "revoked"
            if r.revoked_seq is not None
            else "current",
        )
        for r in rows
    ]
