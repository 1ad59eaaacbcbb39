"""The ledger's one error tree.

- ``Rejection``: the client's fault (a malformed or unauthorised entry); carries a stable
  machine ``code`` and a human message, and is answered as a 4xx problem. Nothing is stored.
- ``IntegrityError``: the stored log or a proof does not add up (tampering, a failed proof);
  ``ProofError`` is the Merkle-proof case and carries the size, computed and expected root.
- ``MalformedError``: input that cannot be parsed at all (a bad note, a bad proof shape).
- ``Unavailable``: the database cannot be reached; nothing was stored, unless ``maybe_stored``
  (the connection broke during COMMIT). ``ReceiptsUnavailable``: a batch was stored but its
  receipts could not be read. ``Unstorable``: the rejection of an entry holding a value the
  database refuses. ``database_unreachable`` is the one place that tells the first apart from a
  statement the database refused.
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
            f"{what} mismatch for tree size {size}: computed {computed.hex()}, expected {expected.hex()}"
        )
        self.size = size
        self.computed = computed
        self.expected = expected


class MalformedError(LedgerError, ValueError):
    """Input that cannot be parsed (a note, a proof, a value with no canonical form)."""


class Unavailable(LedgerError):
    """The database cannot be reached: try again later.

    ``maybe_stored`` is the crash state where the connection failed during COMMIT, so the
    batch may or may not have been stored; otherwise nothing was stored.
    """

    code = "database.unavailable"

    def __init__(self, message: str, *, maybe_stored: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.maybe_stored = maybe_stored


class ReceiptsUnavailable(LedgerError):
    """A batch was stored, but its receipts could not be read; ``results`` holds, per entry,
    its seq or its rejection. Resubmitting the same entries returns their receipts."""

    code = "receipts.unavailable"

    def __init__(self, results: list[Rejection | int]) -> None:
        super().__init__("the entries are stored but their receipts could not be read")
        self.results = results


class Unstorable(Rejection):
    """An entry holding a value the database refuses to store."""

    def __init__(self, message: str) -> None:
        super().__init__("entry.unstorable", message, status=422)


def database_unreachable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached (as opposed to refusing a
    statement): the one place connection-level failures are recognised."""
    import asyncpg
    from sqlalchemy import exc

    for e in _chain(error):
        if isinstance(e, exc.DBAPIError) and e.connection_invalidated:
            return True
        if isinstance(
            e, exc.TimeoutError | exc.DisconnectionError | exc.InterfaceError | exc.OperationalError
        ):
            return True  # pool TimeoutError, a connection the pool gave up on, a closed one
        if isinstance(
            e,
            OSError
            | asyncpg.exceptions.PostgresConnectionError
            | asyncpg.exceptions.OperatorInterventionError
            | asyncpg.exceptions.InterfaceError,
        ):
            return True
    return False


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and its causes (a driver error wrapped by SQLAlchemy, a COPY's cause)."""
    seen: list[BaseException] = []
    e: BaseException | None = error
    while e is not None and len(seen) < 10 and e not in seen:
        seen.append(e)
        orig = getattr(e, "orig", None)
        e = orig if isinstance(orig, BaseException) else e.__cause__
    return seen


def database_refused(error: BaseException) -> bool:
    """Whether ``error`` is the database refusing a value (a data error), not unreachable."""
    import asyncpg
    from sqlalchemy import exc

    return not database_unreachable(error) and any(
        isinstance(e, exc.DataError | asyncpg.exceptions.DataError) for e in _chain(error)
    )


def from_database(error: BaseException) -> bool:
    """Whether ``error`` came from the database or its driver (after which the transaction
    may be aborted), rather than from the code that called it."""
    import asyncpg
    from sqlalchemy import exc

    return any(
        isinstance(
            e,
            exc.SQLAlchemyError
            | asyncpg.exceptions.PostgresError
            | asyncpg.exceptions.InterfaceError
            | OSError,
        )
        for e in _chain(error)
    )
