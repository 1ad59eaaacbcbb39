"""Several county ledgers of one database, served by one process: each request goes to the
ledger its ``Host`` names (``api.http.hosts``).

Each ledger is a whole app of its own (``api.http.app.create_app``: its engine opened for its
ledger, so row-level security keeps it to its own rows; its service, appender and writer;
its witness pusher, console keys and rate limits), made from its home; all share the
database's URL. The dispatcher in front only picks one by host: a request it cannot place
(an unknown host, or no ``Host`` at all) is answered 404 ``ledger.unknown`` and reaches no
ledger; it is logged and measured as a path no route matched (``api.http.observe``). With
one ledger there is no dispatcher: that app is served as it is, for every host.

Lifespan: the server's one ``lifespan`` scope is fanned out to every ledger, by entering each
app's own lifespan (Litestar's ``Litestar.lifespan()``, what its ASGI handler enters) one after
the other, so the migrations run once and the later apps find nothing to do. When one fails
to start, those already started are shut down (the last first) before the server is told
``lifespan.startup.failed``, naming the ledger; a shutdown leaves every ledger, even past one
that fails (then ``lifespan.shutdown.failed`` names it).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from traceback import format_exc
from typing import Any, cast

import msgspec
from litestar import Litestar

from api.home import Home
from api.http.app import Settings, create_app
from api.http.hosts import ServedLedger, host_table, request_host, served_ledgers
from api.http.observe import observe_requests
from api.http.problems import PROBLEM_MEDIA_TYPE, problem
from api.service.metrics import refused
from api.service.witness_push import WitnessSettings
from ledger.errors import Category

WITNESSES_FILE = "witnesses"  # in a home: that ledger's witnesses, in place of the environment's
UNKNOWN = "ledger.unknown"

# ASGI's shapes, as plain mappings: the dispatcher passes scopes of every type along untouched.
Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def ledger_settings(home: Home) -> Settings:
    """A ledger's settings from its home and the environment: its witnesses are its home's
    ``witnesses`` file (``URL VKEY`` a line) when there is one, else ``RURAL_LEDGER_WITNESSES``."""
    file = home.root / WITNESSES_FILE
    if not file.exists():
        return Settings(home=home)
    env = {**os.environ, "RURAL_LEDGER_WITNESSES": "", "RURAL_LEDGER_WITNESSES_FILE": str(file)}
    return Settings(home=home, witnesses=WitnessSettings.from_env(env))


@dataclass(frozen=True)
class LedgerApp:
    ledger: ServedLedger
    app: Litestar


class LedgerDispatcher:
    """The ASGI app in front of several ledgers' apps; see the module docstring."""

    def __init__(self, apps: Sequence[LedgerApp]) -> None:
        self.apps = tuple(apps)
        by_ledger = {id(a.ledger): cast(ASGIApp, a.app) for a in self.apps}
        table = host_table([a.ledger for a in self.apps])
        self.by_host = {name: by_ledger[id(ledger)] for name, ledger in table.items()}
        # An unplaced request is logged and measured as one no route matched.
        self.unknown_host = cast(ASGIApp, observe_requests(cast(Any, unknown_host)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        app = self.by_host.get(request_host(dict(scope["headers"]).get(b"host")) or "")
        if app is None:
            await self.unknown_host(scope, receive, send)
            return
        await app(scope, receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        started: list[tuple[LedgerApp, AbstractAsyncContextManager[None]]] = []
        for a in self.apps:
            running = a.app.lifespan()
            try:
                await running.__aenter__()
            except BaseException:
                failure = f"{named(a)} did not start:\n{format_exc()}"
                failure += await shut_down(started)
                await send({"type": "lifespan.startup.failed", "message": failure})
                raise  # after the report, as Litestar's own lifespan does
            started.append((a, running))
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        if failures := await shut_down(started):
            await send({"type": "lifespan.shutdown.failed", "message": failures})
        else:
            await send({"type": "lifespan.shutdown.complete"})


def named(a: LedgerApp) -> str:
    return f"the ledger {a.ledger.origin!r} ({a.ledger.home.root})"


async def shut_down(started: Sequence[tuple[LedgerApp, AbstractAsyncContextManager[None]]]) -> str:
    """Leave each started lifespan, the last started first; one that fails is reported and
    the others are left all the same, each as if nothing had failed (no exception thrown
    into a ledger's clean-up for another's failure). Returns the failures' reports."""
    failures = ""
    for a, running in reversed(started):
        try:
            await running.__aexit__(None, None, None)
        except Exception:
            failures += f"\n{named(a)} did not shut down:\n{format_exc()}"
    return failures


async def unknown_host(scope: Scope, receive: Receive, send: Send) -> None:
    """404 ``ledger.unknown`` for a request no ledger is served at (a WebSocket is refused)."""
    if scope["type"] != "http":
        await receive()  # websocket.connect
        await send({"type": "websocket.close", "code": 1008})
        return
    host = request_host(dict(scope["headers"]).get(b"host"))
    where = f"at the host {host[:100]!r}" if host else "for a request that names no host (Host header)"
    detail = f"no ledger is served {where}: each county's ledger is reached at its own host name"
    refused(UNKNOWN)
    body = msgspec.json.encode(problem(Category.NOT_FOUND, UNKNOWN, detail))
    headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 404, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def ledgers_app(settings: Sequence[Settings]) -> Any:
    """The ASGI app serving the ledgers of ``settings`` (one each, all on one database): a
    ledger's own app when there is one, else a dispatcher by host over all of them."""
    if len(settings) == 1:
        return create_app(settings[0])
    ledgers = served_ledgers(s.home for s in settings)
    return LedgerDispatcher(
        [LedgerApp(ledger, create_app(s)) for ledger, s in zip(ledgers, settings, strict=True)]
    )


def homes_app(homes: Sequence[Home]) -> Any:
    """``ledgers_app`` for ``homes``, each with its settings from its home and the environment."""
    return ledgers_app([ledger_settings(home) for home in homes])
