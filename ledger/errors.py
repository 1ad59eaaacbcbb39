"""The ledger's one error tree.

- ``Rejection``: the client's fault (a malformed or unauthorised entry); carries a stable
  machine ``code`` and a human message, and is answered as a 4xx problem. Nothing is stored.
- ``IntegrityError``: the stored log or a proof does not add up (tampering, a failed proof);
  ``ProofError`` is the Merkle-proof case and carries the size, computed and expected root.
- ``MalformedError``: input that cannot be parsed at all (a bad note, a bad proof shape).
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error raised by the ledger package."""


class Rejection(LedgerError):
    """An entry the ledger refuses; ``code`` is stable, ``message`` says what was expected."""

    def __init__(self, code: str, message: str, *, status: int = 422) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class IntegrityError(LedgerError):
    """The log, a checkpoint or a proof does not verify.

    ``seq`` names the first record found bad, when the check concerns one.
    """

    def __init__(self, message: str, *, seq: int | None = None) -> None:
        super().__init__(message if seq is None else f"seq {seq}: {message}")
        self.seq = seq


class ProofError(IntegrityError):
    """A Merkle proof that recomputes to another root than the one expected.

    Carries the tree ``size`` the root belongs to, the ``computed`` and the ``expected`` root,
    like transparency-dev/merkle's ``RootMismatchError``.
    """

    def __init__(self, *, size: int, computed: bytes, expected: bytes, what: str = "root") -> None:
        super().__init__(
            f"{what} mismatch for tree size {size}: "
            f"computed {computed.hex()}, expected {expected.hex()}"
        )
        self.size = size
        self.computed = computed
        self.expected = expected


class MalformedError(LedgerError, ValueError):
    """Input that cannot be parsed (a note, a proof, a value with no canonical form)."""
