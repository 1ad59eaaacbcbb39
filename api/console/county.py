"""The county officer's desk (``/console/county/``): its home, with the desk's pages linked and
its key figures (vouchers outstanding, redemptions not yet settled, land quotas by stage, the
developer pool, the price schedules, the policy and the calendars declared), and every route of
the desk, gathered in ``ROUTES`` (policy and calendar, price schedules and vouchers, the
developer pool, land quotas, monitoring).

Served to users of role ``county_officer``, of the county or of its housing authority, for
their own county only.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from api.console.auth_routes import CONSOLE
from api.console.county_desk import HOME, ROLE, county_page, own_county
from api.console.county_monitoring import ROUTES as MONITORING
from api.console.county_policy import ROUTES as POLICY
from api.console.county_pool import ROUTES as POOL
from api.console.county_quotas import ROUTES as QUOTAS
from api.console.county_reads import key_figures, org_type
from api.console.guard import SignedIn
from api.console.vouchers_pages import ROUTES as VOUCHERS
from api.console.vouchers_pages_acts import ROUTES as VOUCHER_ACTS
from api.console.vouchers_pages_cash import ROUTES as CASH
from api.http.dependencies import Session


@get(HOME, opt=ROLE, **CONSOLE)
async def county_home(request: Request[Any, Any, Any], console: SignedIn, session: Session) -> Response[Any]:
    """The desk's pages and the county's key figures."""
    county = await own_county(session, console)
    figures = await key_figures(session, county)
    return county_page(
        request,
        console,
        "county_home.html",
        county=county,
        figures=figures,
        org_type=await org_type(session, console.user.org_id),
    )


ROUTES: list[Any] = [county_home, *POLICY, *VOUCHERS, *CASH, *VOUCHER_ACTS, *POOL, *QUOTAS, *MONITORING]
