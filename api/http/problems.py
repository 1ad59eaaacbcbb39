"""The one place errors become RFC 9457 problem details, each with a stable ``code``."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException

from api.http.wire.problems import Problem, Refusal, StoredSeq
from api.service.metrics import refused
from ledger.errors import Category, ReceiptsUnavailable, Rejection, Unavailable, database_unreachable

PROBLEM_MEDIA_TYPE = "application/problem+json"
# What an unexpected failure says: where it struck is unknown, so it never claims that nothing
# was changed; resubmitting is what is always safe.
SERVER_FAILED = (
    "the server failed unexpectedly (the failure is logged); resubmitting the same "
    "entries is safe: an entry already stored returns its receipt, none is stored twice"
)
RETRY_AFTER_SECONDS = 2  # what a client is told to wait while the database is unreachable
log = logging.getLogger("rural_ledger.api")


# The one mapping from the error tree's categories to HTTP statuses.
HTTP_STATUS: dict[Category, int] = {
    Category.MALFORMED: 400,
    Category.UNAUTHORISED: 401,
    Category.FORBIDDEN: 403,
    Category.NOT_FOUND: 404,
    Category.CONFLICT: 409,
    Category.TOO_LARGE: 413,
    Category.UNSUPPORTED: 415,
    Category.INVALID: 422,
    Category.RULE_VIOLATION: 422,
    Category.RATE_LIMITED: 429,
    Category.FAILED: 500,
    Category.INTEGRITY: 500,
    Category.UNAVAILABLE: 503,
}


class ApiProblem(Rejection):
    """A refusal raised by a route rather than by an entry's rules: ``code`` is stable,
    ``detail`` says what was wrong, ``category`` what kind of refusal it is."""

    def __init__(self, category: Category, code: str, detail: str) -> None:
        super().__init__(code, detail, category=category)
        self.detail = detail


def problem(
    category: Category, code: str, detail: str, *, status: int | None = None, **extra: Any
) -> Problem:
    """An RFC 9457 body; its status is its category's (``status`` is given only for
    Litestar's own exceptions, which come with theirs); ``extra`` names one of the members
    ``Problem`` declares beside the five."""
    return Problem(
        type=f"urn:rural-ledger:problem:{code}",
        title=code,
        status=status or HTTP_STATUS[category],
        detail=detail,
        code=code,
        **extra,
    )


def rejection_problem(r: Rejection) -> Problem:
    return problem(r.category, r.code, r.message)


def _respond(body: Problem, headers: dict[str, str] | None = None) -> Response[Problem]:
    refused(body.code)
    return Response(body, status_code=body.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def unavailable_problem(exc: Unavailable) -> Problem:
    if exc.maybe_stored:
        detail = (
            f"{exc.message} while the entries were being stored: they may have been "
            "stored; resubmit the same entries: a stored entry returns its receipt, "
            "nothing is stored twice"
        )
    else:
        detail = f"{exc.message}; nothing was stored, try again later"
    return problem(Category.UNAVAILABLE, Unavailable.code, detail, retry_after=RETRY_AFTER_SECONDS)


def on_unavailable(_: Request[Any, Any, Any], exc: Unavailable) -> Response[Problem]:
    return _respond(unavailable_problem(exc), {"Retry-After": str(RETRY_AFTER_SECONDS)})


def on_receipts_unavailable(_: Request[Any, Any, Any], exc: ReceiptsUnavailable) -> Response[Problem]:
    results: list[Refusal | StoredSeq] = [
        Refusal(rejection_problem(r)) if isinstance(r, Rejection) else StoredSeq(r) for r in exc.results
    ]
    return _respond(
        problem(
            Category.UNAVAILABLE,
            ReceiptsUnavailable.code,
            "the entries are stored (seqs in results), but their receipts could "
            "not be read; resubmit the same entries to get their receipts, "
            "nothing is stored twice",
            results=results,
        ),
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def on_rejection(_: Request[Any, Any, Any], exc: Rejection) -> Response[Problem]:
    return _respond(rejection_problem(exc))


# Litestar's own HTTP exceptions, back into the tree: a category and a stable code each.
CATEGORY_OF_STATUS = {
    400: Category.MALFORMED,
    401: Category.UNAUTHORISED,
    403: Category.FORBIDDEN,
    404: Category.NOT_FOUND,
    405: Category.NOT_FOUND,
    413: Category.TOO_LARGE,
    415: Category.UNSUPPORTED,
    429: Category.RATE_LIMITED,
}


def category_of_status(status: int) -> Category:
    """The category an HTTP status stands for (for a client reading a problem)."""
    if status == 422:
        return Category.RULE_VIOLATION
    return CATEGORY_OF_STATUS.get(status, Category.FAILED if status >= 500 else Category.MALFORMED)


HTTP_CODES = {
    400: "request.invalid",
    401: "auth.required",
    403: "auth.forbidden",
    404: "not_found",
    405: "request.method_not_allowed",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    429: "request.too_many",
}


def on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if status >= 500:
        log.error("server error: %s", exc.detail)
        return _respond(problem(Category.FAILED, "server.error", SERVER_FAILED, status=status))
    code = HTTP_CODES.get(status, "request.invalid")
    if isinstance(exc, ValidationException):
        code = "request.invalid_parameters"
    elif isinstance(exc, NotFoundException):
        code = "not_found"
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if isinstance(exc, NotFoundException) and detail == "Not Found":  # a path no route matches
        detail = (
            f"nothing at {request.url.path!r}: no route takes this path, or a parameter in it is malformed"
        )
    extra = {"errors": exc.extra} if isinstance(exc, ValidationException) and exc.extra else {}
    category = CATEGORY_OF_STATUS.get(status, Category.MALFORMED)
    return _respond(problem(category, code, detail, status=status, **extra))


def as_unavailable(exc: Exception) -> Unavailable | None:
    """``exc`` as the database being unreachable, when that is what it says (a read, or any
    route, while the database is down); otherwise None."""
    if isinstance(exc, Unavailable):
        return exc
    if database_unreachable(exc):
        return Unavailable(f"the database is unreachable ({exc.__class__.__name__})")
    return None


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    unavailable = as_unavailable(exc)
    if unavailable is not None:
        return on_unavailable(request, unavailable)
    log.exception("unexpected error", exc_info=exc)
    return _respond(problem(Category.FAILED, "server.error", SERVER_FAILED))


EXCEPTION_HANDLERS = {
    Rejection: on_rejection,
    Unavailable: on_unavailable,
    ReceiptsUnavailable: on_receipts_unavailable,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}
