"""The ledger's one error tree.

Every error raised by ``ledger/`` and ``contracts/`` (and by the service and the command line
built on them) is a ``LedgerError`` with a ``Category``; none names an HTTP status or an exit
code. Only the outermost layer maps a category to one, in one place (``api.http.problems`` for HTTP,
``api.cli.main`` for exit codes).

- ``Rejection``: a refusal (of an entry, a request, a command): a stable machine ``code``, a
  human ``message`` and its category. Nothing is stored. ``RuleViolation`` (``contracts``),
  ``Unstorable`` and the service's ``ApiProblem`` are rejections.
- ``Unavailable``: the database cannot be reached; nothing was stored, unless ``maybe_stored``
  (the connection broke during COMMIT). ``ReceiptsUnavailable``: a batch was stored but its
  receipts could not be read. ``database_unreachable`` is the one place that tells the first
  apart from a statement the database refused.
- Apart, not a refusal: ``IntegrityError``, the stored log or a proof does not add up
  (tampering, a failed proof); ``ProofError`` is the Merkle-proof case. ``MalformedError`` is
  input to the log's own parsers (a note, a proof) that cannot be parsed at all.
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """What kind of refusal or failure an error is; the outer layers map it to a status."""

    MALFORMED = "malformed"  # cannot be parsed, or not the shape the format requires
    INVALID = "invalid"  # well-formed, but a value is outside its schema or its format
    UNAUTHORISED = "unauthorised"  # who is asking is not proven (no or a bad request signature)
    FORBIDDEN = "forbidden"  # who is asking is known and may not do this
    NOT_FOUND = "not_found"  # what is asked for does not exist
    CONFLICT = "conflict"  # clashes with what is already stored (an id used, a duplicate)
    RULE_VIOLATION = "rule_violation"  # a rule of the register refuses it
    TOO_LARGE = "too_large"  # a request beyond the size the service takes
    UNSUPPORTED = "unsupported"  # a media type or format the service does not speak
    RATE_LIMITED = "rate_limited"  # too many requests: wait and try again
    UNAVAILABLE = "unavailable"  # a dependency (the database) is unreachable: try again
    FAILED = "failed"  # the server's own fault (a rule that raised); the request was fine
    INTEGRITY = "integrity"  # the stored log or a proof does not add up (apart from refusals)


class LedgerError(Exception):
    """Base of every error of the tree; ``category`` says what kind it is."""

    category: Category = Category.FAILED


class Rejection(LedgerError):
    """A refusal; ``code`` is stable, ``message`` says what was expected, ``category`` what
    kind of refusal it is (a rule's, unless said otherwise)."""

    def __init__(self, code: str, message: str, *, category: Category = Category.RULE_VIOLATION) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.category = category


class IntegrityError(LedgerError):
    """The log, a checkpoint or a proof does not verify.

    ``seq`` names the first record found bad, when the check concerns one.
    """

    category = Category.INTEGRITY

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

    category = Category.MALFORMED


class Unavailable(LedgerError):
    """The database cannot be reached: try again later.

    ``maybe_stored`` is the crash state where the connection failed during COMMIT, so the
    batch may or may not have been stored; otherwise nothing was stored.
    """

    code = "database.unavailable"
    category = Category.UNAVAILABLE

    def __init__(self, message: str, *, maybe_stored: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.maybe_stored = maybe_stored


class ReceiptsUnavailable(LedgerError):
    """A batch was stored, but its receipts could not be read; ``results`` holds, per entry,
    its seq or its rejection. Resubmitting the same entries returns their receipts."""

    code = "receipts.unavailable"
    category = Category.UNAVAILABLE

    def __init__(self, results: list[Rejection | int]) -> None:
        super().__init__("the entries are stored but their receipts could not be read")
        self.results = results


class Unstorable(Rejection):
    """An entry holding a value the database refuses to store."""

    def __init__(self, message: str) -> None:
        super().__init__("entry.unstorable", message, category=Category.INVALID)


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
            | asyncpg.exceptions.InterfaceError
            # No server of a multi-host URL is what ``target_session_attrs`` asks for: during
            # a failover, no primary yet.
            | asyncpg.exceptions.TargetServerAttributeNotMatched,
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
