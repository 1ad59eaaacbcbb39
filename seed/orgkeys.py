"""Keys of the organisations a seed registers, derived from the seed.

Deriving them (SHA-256 of the seed and the organisation id, as an Ed25519 seed) makes the same
``--seed`` give the same ledger content, public keys included, and lets an interrupted seeding
resume with the same signed entries. Anyone who knows the seed can sign for these
organisations: they are demo and benchmark organisations, never real ones.
"""

from __future__ import annotations

import hashlib

from ledger.signing import KeyFile, SigningKey, b64

CONTEXT = "rural-ledger/seed-org-key/v1"


def org_key(seed: int, org_id: str) -> KeyFile:
    raw = hashlib.sha256(f"{CONTEXT}\n{seed}\n{org_id}".encode()).digest()
    return KeyFile(org_id, SigningKey.from_seed(raw))


def public_key_of(seed: int, org_id: str) -> str:
    return b64(org_key(seed, org_id).key.public_key)
