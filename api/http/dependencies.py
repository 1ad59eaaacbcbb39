"""What a route handler is given, by the name of its parameter, instead of opening it itself
(Litestar dependency injection; the app registers each provider here under its name).

- ``service: Service``: the running ledger.
- ``db: Db``: one pooled connection for the request, checked out before the handler runs (503
  ``database.unavailable`` when the database cannot be reached) and closed once it has
  answered. Its first statement begins a transaction, rolled back at the close unless the
  handler commits it. A GET route with ``opt=REPLICA_READS`` may be given a connection to the
  read replica instead (``api.service.replica``): reads only, and never behind what it names.
- ``session: Session``: an ORM session on that same connection, in the same transaction;
  ``session.commit()`` commits it.
- ``caller: SignedCaller``: the organisation that signed the request (``Authorization:
  Signature``, see ``api.http.auth``); a request that is not signed as required is answered
  with its 401 problem before the handler runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from api.http.auth import Caller, authenticate
from api.http.head import sent_method
from api.service.replica import READ_METHODS, REPLICA_OPT, wanted_size
from api.service.service import LedgerService

Service = NamedDependency[LedgerService]
Db = NamedDependency[AsyncConnection]
Session = NamedDependency[AsyncSession]
SignedCaller = NamedDependency[Caller]


async def provide_service(state: State) -> LedgerService:
    return state.service  # type: ignore[no-any-return]


async def provide_db(request: Request[Any, Any, Any], service: Service) -> AsyncIterator[AsyncConnection]:
    if request.route_handler.opt.get(REPLICA_OPT) and request.method in READ_METHODS:
        conn = await service.connect_for_read(wanted_size(request.path_params, request.query_params))
    else:
        conn = await service.connect()
    try:
        yield conn
    except BaseException:
        # The handler failed, perhaps with this very connection: closing it must not replace
        # the handler's error with its own.
        with contextlib.suppress(Exception):
            await conn.close()
        raise
    else:
        await conn.close()


async def provide_session(db: Db) -> AsyncSession:
    # Nothing to close: the session holds no connection but ``db``. It takes over whatever
    # transaction ``db`` has begun, so that its commit is never silently a no-op.
    return AsyncSession(bind=db, expire_on_commit=False, join_transaction_mode="control_fully")


async def provide_caller(
    request: Request[Any, Any, Any], service: Service, session: Session, db: Db
) -> Caller:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        return await authenticate(
            session,
            service.engine,
            service.origin,
            request.headers.get("authorization"),
            sent_method(request.scope),
            target,
            await request.body(),
            service.appender.clock(),
        )
    except BaseException:
        # Litestar (2.25) does not clean up the dependencies already resolved when a later one
        # raises: ``provide_db`` is left suspended, and its connection would go back to the
        # pool only when the abandoned generator is finalized, whenever that is. A refused
        # request gives it back now.
        with contextlib.suppress(Exception):
            await db.close()
        raise


DEPENDENCIES = {
    "service": Provide(provide_service),
    "db": Provide(provide_db),
    "session": Provide(provide_session),
    "caller": Provide(provide_caller),
}
