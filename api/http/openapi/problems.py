"""Each operation's problem responses: per status, the ``Problem`` schema as
``application/problem+json``, the codes the operation can return and an example of each.

The codes are what ``api.http.openapi.refusals`` reads in the handler and in the providers of
the dependencies it takes, what the handler names itself (``opt={"problems": fn}``), and what
the service answers around every handler:

- 400 ``request.invalid_parameters`` for an operation with parameters, 404 ``not_found`` for a
  path with parameters (a malformed one matches no route);
- 413 ``request.too_large`` for one that reads a JSON body (beyond the app's body limit);
- 429 ``request.rate_limited`` for every request (per client address; per signing key too);
- 503 ``database.unavailable`` for one that takes the database (``db``, ``session``, ``caller``);
- 500 ``server.error`` for every request: the server's own failure, always safe to resubmit.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

import msgspec
from litestar.handlers import HTTPRouteHandler

from api.http.dependencies import DEPENDENCIES
from api.http.openapi.refusals import KnownProblem, merged, refusals_of
from api.http.problems import HTTP_STATUS, PROBLEM_MEDIA_TYPE, RETRY_AFTER_SECONDS, SERVER_FAILED, problem
from api.http.wire import COMPONENTS
from ledger.errors import Category, Unavailable

Schema = dict[str, Any]

DATABASE = frozenset({"db", "session", "caller"})
BODY_CODES = frozenset({"request.unsupported_media_type"})  # refused by whoever reads a JSON body
AROUND_EVERY_REQUEST = (
    KnownProblem(Category.RATE_LIMITED, "request.rate_limited", "too many requests; retry after {seconds}s"),
    KnownProblem(Category.FAILED, "server.error", SERVER_FAILED),
)
INVALID_PARAMETERS = KnownProblem(
    Category.MALFORMED, "request.invalid_parameters", "Validation failed for {method} {path}"
)
NO_ROUTE = KnownProblem(
    Category.NOT_FOUND,
    "not_found",
    "nothing at {path}: no route takes this path, or a parameter in it is malformed",
)
TOO_LARGE = KnownProblem(Category.TOO_LARGE, "request.too_large", "the request body is too large")
DATABASE_UNAVAILABLE = KnownProblem(
    Category.UNAVAILABLE,
    Unavailable.code,
    "the database is unreachable ({error}); nothing was stored, try again later",
)
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def parameters(fn: Callable[..., Any]) -> list[str]:
    """The names of ``fn``'s parameters: a handler's or a provider's dependencies among them."""
    return list(inspect.signature(fn).parameters)


def dependency_refusals(names: Iterable[str]) -> frozenset[KnownProblem]:
    """What the providers of the dependencies ``names`` refuse, and those they depend on."""
    pending, seen, found = list(names), set(), []
    while pending:
        name = pending.pop()
        if name in seen or name not in DEPENDENCIES:
            continue
        seen.add(name)
        provider = DEPENDENCIES[name].dependency
        found.append(refusals_of(provider))
        pending.extend(parameters(provider))
    return merged(*found)


def operation_problems(handler: HTTPRouteHandler, operation: Schema, path: str) -> frozenset[KnownProblem]:
    """Every refusal the operation of ``handler`` can answer."""
    names = parameters(handler.fn)
    own = merged(refusals_of(handler.fn), dependency_refusals(names))
    named: Callable[[], Iterable[KnownProblem]] | None = (handler.opt or {}).get("problems")
    around: list[KnownProblem] = list(AROUND_EVERY_REQUEST)
    if operation.get("parameters"):
        around.append(INVALID_PARAMETERS)
    if "{" in path:
        around.append(NO_ROUTE)
    if any(p.code in BODY_CODES for p in own):
        around.append(TOO_LARGE)
    if DATABASE & set(names):
        around.append(DATABASE_UNAVAILABLE)
    return merged(own, named() if named else (), around)


def problem_responses(problems: Iterable[KnownProblem]) -> dict[str, Schema]:
    """The responses, by status, of an operation that can answer ``problems``."""
    by_status: dict[int, list[KnownProblem]] = {}
    for p in sorted(problems, key=lambda p: p.code):
        by_status.setdefault(HTTP_STATUS[p.category], []).append(p)
    return {str(status): _response(status, found) for status, found in sorted(by_status.items())}


def _response(status: int, problems: list[KnownProblem]) -> Schema:
    codes = list(dict.fromkeys(p.code for p in problems))
    response: Schema = {
        "description": f"{HTTPStatus(status).phrase}: " + ", ".join(f"`{c}`" for c in codes),
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": COMPONENTS + "Problem"},
                "examples": {p.code: {"summary": p.detail, "value": _example(p)} for p in problems},
            }
        },
    }
    if status in (429, 503):
        response["headers"] = RETRY_AFTER
    return response


def _example(p: KnownProblem) -> Schema:
    extra = {"retry_after": RETRY_AFTER_SECONDS} if p.code == Unavailable.code else {}
    return msgspec.to_builtins(problem(p.category, p.code, p.detail, **extra))  # type: ignore[no-any-return]
