"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.logging.config import LoggingConfig
from litestar.openapi import ResponseSpec

from api.console import console_routes
from api.console.forms import HeldKeys
from api.home import Home
from api.http.dependencies import DEPENDENCIES, Db, Service
from api.http.explorer import openapi_router, render_plugins
from api.http.head import answer_head_as_get
from api.http.logs import QUEUE_LISTENER
from api.http.observe import observe_requests
from api.http.openapi.document import DocumentedOpenAPIConfig
from api.http.problems import EXCEPTION_HANDLERS, RETRY_AFTER_SECONDS, as_unavailable, on_unexpected
from api.http.rate_limits import RateLimits, rate_limit_middleware
from api.http.routes.audit import AuditController
from api.http.routes.certificates import CertificateController
from api.http.routes.entries import EntryController
from api.http.routes.exchange import ExchangeController
from api.http.routes.exchange_deals import ExchangeDealsController
from api.http.routes.homesteads import HomesteadController
from api.http.routes.households import HouseholdController
from api.http.routes.index import index_page
from api.http.routes.kinds import KindController
from api.http.routes.land import LandController
from api.http.routes.members import MemberController
from api.http.routes.metrics import metrics
from api.http.routes.monitoring import MonitoringController
from api.http.routes.notes import NoteController
from api.http.routes.orgs import OrgController
from api.http.routes.parties import PartyController
from api.http.routes.policy import PolicyController
from api.http.routes.proof_files import ProofFileController
from api.http.routes.proofs import ProofController
from api.http.routes.quotas import QuotaController
from api.http.routes.rights import RightsController
from api.http.routes.shares import ShareController
from api.http.routes.tiles import TileController
from api.http.routes.vouchers import DeveloperController, VoucherController
from api.http.wire.records import Health, HealthUnavailable
from api.service.database import NO_LEDGER, asyncpg_url, make_engine, make_read_engine, resolve_url
from api.service.database import read_url as replica_url
from api.service.metrics import meter_appends
from api.service.migrate import migrate
from api.service.service import LedgerService
from api.service.signing_window import SignedAtWindow
from api.service.witness_push import WitnessPusher, WitnessSettings
from ledger import store
from ledger.appender import Clock, system_clock
from ledger.errors import Unavailable

MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    home: Home = field(default_factory=Home.from_env)
    database_url: str | None = None  # None: DATABASE_URL, else the embedded database
    clock: Clock = system_clock
    max_batch: int = 2000
    rate_limits: RateLimits = field(default_factory=RateLimits.from_env)
    signed_at_window: SignedAtWindow = field(default_factory=SignedAtWindow.from_env)
    witnesses: WitnessSettings = field(default_factory=WitnessSettings.from_env)  # docs/witness.md
    # Where reads that may lag are served from (RURAL_LEDGER_READ_URL, docs/ha.md); None: the primary.
    read_url: str | None = field(default_factory=replica_url)


def health_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """What ``/healthz`` answers when the database cannot be reached, at its connection or
    its read: 503 with the reason, in its own shape; any other failure as every route does."""
    unavailable = as_unavailable(exc)
    if unavailable is None:
        return on_unexpected(request, exc)
    return Response(
        HealthUnavailable("unavailable", request.app.state.service.origin, unavailable.message),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@get(
    "/healthz",
    operation_id="health",
    tags=["service"],
    summary="Liveness and tree size",
    exception_handlers={Unavailable: health_unavailable, Exception: health_unavailable},
    responses={
        503: ResponseSpec(
            HealthUnavailable, description="The database cannot be reached", generate_examples=False
        )
    },
)
async def health(service: Service, db: Db) -> Health:
    latest = await db.run_sync(store.latest_checkpoint)
    return Health(
        status="ok" if service.read_only is None else "read-only",
        origin=service.origin,
        size=latest.size if latest else 0,
        self_check=service.read_only or "passed",
    )


ROUTE_HANDLERS = (
    index_page,
    EntryController,
    ProofController,
    ProofFileController,
    OrgController,
    AuditController,
    PartyController,
    ShareController,
    health,
    HouseholdController,
    MemberController,
    LandController,
    HomesteadController,
    CertificateController,
    RightsController,
    MonitoringController,
    NoteController,
    KindController,
    PolicyController,
    ExchangeController,
    ExchangeDealsController,
    VoucherController,
    DeveloperController,
    QuotaController,
)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        url = settings.database_url or resolve_url(settings.home.root)
        owner = make_engine(url, service_role=False, pool_size=1, ledger=NO_LEDGER)
        try:
            await migrate(owner)
        finally:
            await owner.dispose()
        engine = make_engine(url, ledger=settings.home.origin())
        try:
            service = await LedgerService.open(
                engine,
                settings.home.operator_signer(),
                settings.clock,
                settings.max_batch,
                settings.home.blind_index_secret(),
                settings.signed_at_window,
            )
        except BaseException:  # the ledger will not open: its connections must not outlive it
            await engine.dispose()
            raise
        if settings.read_url:  # proofs, record pages, the export: api.service.replica
            service.read_engine = make_read_engine(asyncpg_url(settings.read_url), settings.home.origin())
        meter_appends(service.appender)  # api.service.metrics
        app.state.service = service
        app.state.witness_pusher = pusher = WitnessPusher(engine, settings.witnesses)
        pusher.start()  # asks the witnesses to cosign new checkpoints, beside the appends
        app.state.console_keys = HeldKeys(settings.home)  # the console's held keys (api.console.forms)
        app.state.sign_in_failures = settings.rate_limits.sign_in_buckets()  # api.console.auth_routes
        try:
            yield
        finally:
            await pusher.stop()
            await service.close()
            await engine.dispose()
            if service.read_engine is not None:
                await service.read_engine.dispose()

    app = Litestar(
        # The console's pages and the public verification pages, with their static files; not in
        # the OpenAPI document (they are HTML for people, not the API); nor are the static tiles
        # for mirrors (binary files, docs/tiles.md), nor the Prometheus metrics (docs/operations.md).
        route_handlers=[*ROUTE_HANDLERS, TileController, metrics, *console_routes()],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        middleware=[rate_limit_middleware(settings.rate_limits)],
        # Litestar's logging, its root handler's lines written in batches (api.http.logs).
        logging_config=LoggingConfig(handlers={"queue_listener": dict(QUEUE_LISTENER)}),
        lifespan=[lifespan],
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=DocumentedOpenAPIConfig(
            route_handlers=ROUTE_HANDLERS,
            title="Rural Ledger",
            version="0.1.0",
            path="/schema",
            render_plugins=render_plugins(),
            openapi_router=openapi_router(),
        ),
    )
    # Request logs and metrics (api.http.observe) inside HEAD's wrapper, so that they see the
    # scope the router fills in (a HEAD request is served on a copy of its scope, as a GET).
    app.asgi_handler = observe_requests(app.asgi_handler)
    app.asgi_handler = answer_head_as_get(app.asgi_handler)  # HEAD on every GET route: api.http.head
    return app
