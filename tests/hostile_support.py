"""What the hostile-input tests of each area share: walking a real accepted payload to its
scalars, changing one of them, nesting a value, and submitting entries or raw bodies that must
each be refused with a 4xx problem while the log stays where it was."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any, Protocol

from tests.support import LedgerFixture

Path = tuple[str | int, ...]


class OnLedger(Protocol):
    fx: LedgerFixture


def leaves(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every scalar of a JSON value with its path."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, (*path, i))
    else:
        yield path, value


def integer_paths(payload: dict[str, Any]) -> list[Path]:
    """Where a payload holds an integer (booleans apart)."""
    return [p for p, v in leaves(payload) if isinstance(v, int) and not isinstance(v, bool)]


def replaced(doc: dict[str, Any], path: Path, new: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    target: Any = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return out


def nested(depth: int, innermost: Any = "X-1") -> Any:
    value: Any = innermost
    for _ in range(depth):
        value = [value]
    return value


async def refused_each(
    m: OnLedger, items: list[tuple[str, dict[str, Any]]], codes: set[str] | None
) -> list[dict[str, Any]]:
    """Submit ``items`` ((what, signed item)) in one list; each answer is a 4xx problem (with
    one of ``codes`` when given); the log did not move. The problems."""
    size = await m.fx.size()
    r = await m.fx.client.http.post("/v1/entries", json={"entries": [item for _, item in items]})
    assert r.status_code == 200, r.text
    problems = []
    for (what, _), answer in zip(items, r.json()["results"], strict=True):
        assert "error" in answer, f"{what} was accepted at seq {answer.get('seq')}"
        problem = answer["error"]
        assert 400 <= problem["status"] < 500, (what, problem)
        assert codes is None or problem["code"] in codes, (what, problem)
        problems.append(problem)
    assert await m.fx.size() == size, "a refused entry took a seq"
    return problems


async def refused_request(m: OnLedger, body: bytes, status: int, code: str, what: str) -> None:
    size = await m.fx.size()
    r = await m.fx.client.http.post("/v1/entries", content=body, headers={"content-type": "application/json"})
    assert (r.status_code, r.json().get("code")) == (status, code), (what, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await m.fx.size() == size, f"{what} moved the log"


def integers_beyond(
    items: dict[str, dict[str, Any]], value: int, first: Any
) -> list[tuple[str, dict[str, Any]]]:
    """Each signed item of ``items`` (by kind) with ``value`` at each of its integers (or, for a
    payload without one, at ``first(payload)``): the signature is left as it was, since no
    canonical form holds such an integer and so nobody can sign it."""
    out = []
    for kind, signed in items.items():
        item = copy.deepcopy(signed)
        payload = item["entry"]["payload"]
        for path in integer_paths(payload) or [(first(payload),)]:
            out.append(
                (
                    f"{kind} {path}",
                    {**item, "entry": {**item["entry"], "payload": replaced(payload, path, value)}},
                )
            )
    return out


async def refused_unencodable(m: OnLedger, items: list[tuple[str, dict[str, Any]]]) -> None:
    """Send ``items`` as raw JSON in one list: each entry refused on its own (4xx), or the whole
    body when no JSON reader here takes it; never a 500, and the log does not move."""
    body = json.dumps({"entries": [i for _, i in items]}).encode()
    size = await m.fx.size()
    r = await m.fx.client.http.post("/v1/entries", content=body, headers={"content-type": "application/json"})
    assert r.status_code < 500, r.text
    if r.status_code == 200:  # each entry refused on its own
        for (what, _), answer in zip(items, r.json()["results"], strict=True):
            assert "error" in answer and 400 <= answer["error"]["status"] < 500, (what, answer)
    else:  # or the whole body, which no JSON reader here takes
        assert 400 <= r.status_code < 500 and r.json()["code"].startswith("request."), r.text
    assert await m.fx.size() == size


def nul_in_every_string(
    sign: Any, kind: str, payload: dict[str, Any], first: str
) -> list[tuple[str, dict[str, Any]]]:
    """``payload`` signed by ``sign(kind, payload)`` with NUL at the end, alone and inside each
    string, and in its ``first`` key."""
    out = []
    for path, value in leaves(payload):
        if isinstance(value, str):
            for hostile in (value + "\x00", "\x00", value[:1] + "\x00" + value[1:]):
                out.append((f"{kind} {path}", sign(kind, replaced(payload, path, hostile))))
    keyed = {(f"{k}\x00" if k == first else k): v for k, v in payload.items()}
    out.append((f"{kind} NUL in a key", sign(kind, keyed)))
    return out
