"""Console passwords, hashed with Argon2id (memory-hard) and stored as PHC strings:
``$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`` (standard base64 without padding).

The parameters are OWASP's minimum for Argon2id (19 MiB, two passes, one lane): a hash costs a
few tens of milliseconds, and the same in tests as in production. A stored hash is checked
with the parameters written in it, so a later, costlier setting leaves old hashes usable.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
from dataclasses import dataclass
from functools import cache

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

MIN_LENGTH = 10  # characters
MAX_LENGTH = 256  # characters: a bound on the work one sign-in asks for
PHC = re.compile(
    r"^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,88})\$([A-Za-z0-9+/]{16,88})$"
)


@dataclass(frozen=True)
class Cost:
    """Argon2id's cost: memory in KiB, passes (time) and lanes (parallelism)."""

    memory_kib: int = 19456
    passes: int = 2
    lanes: int = 1


COST = Cost()
SALT_BYTES = 16
HASH_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, cost: Cost, length: int) -> bytes:
    kdf = Argon2id(
        salt=salt, length=length, iterations=cost.passes, lanes=cost.lanes, memory_cost=cost.memory_kib
    )
    return kdf.derive(password.encode())


def hash_password(password: str, cost: Cost = COST) -> str:
    """The PHC string of ``password`` under a fresh random salt."""
    salt = os.urandom(SALT_BYTES)
    digest = _derive(password, salt, cost, HASH_BYTES)
    m, t, p = cost.memory_kib, cost.passes, cost.lanes
    return f"$argon2id$v=19$m={m},t={t},p={p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from; a stored string that is not
    an Argon2id PHC string of sane parameters matches nothing. Compared in constant time."""
    match = PHC.match(stored)
    if match is None or len(password) > MAX_LENGTH:
        return False
    m, t, p = (int(g) for g in match.groups()[:3])
    if not (8 * p <= m <= 4 * 1024 * 1024 and 1 <= t <= 10 and 1 <= p <= 16):
        return False
    salt, expected = _unb64(match.group(4)), _unb64(match.group(5))
    computed = _derive(password, salt, Cost(m, t, p), len(expected))
    return hmac.compare_digest(computed, expected)


@cache
def unknown_user_hash() -> str:
    """What an unknown user's sign-in is checked against, so that it costs what a known
    user's does (made once per process, of a password nobody knows)."""
    return hash_password(os.urandom(16).hex())


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be a console password, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password has at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    return None
