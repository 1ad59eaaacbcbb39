"""The collective clerk's desk beyond its first pages (``collective_routes``): the people and
the memberships (``collective_people``), one admission's page with its objections, the
membership and share certificates, the asset verification, the share register with its
transfers on a farmer's consent, and the dividends. One list, so that ``console_routes()``
names the desk's later pages once."""

from __future__ import annotations

from typing import Any

from api.console.collective_assets import ROUTES as ASSETS
from api.console.collective_certificate_print import ROUTES as PRINTS
from api.console.collective_certificates import ROUTES as CERTIFICATES
from api.console.collective_dividends import ROUTES as DIVIDENDS
from api.console.collective_members import ROUTES as MEMBERS
from api.console.collective_people import ROUTES as PEOPLE
from api.console.collective_shares import ROUTES as SHARES

ROUTES: list[Any] = [*PEOPLE, *MEMBERS, *CERTIFICATES, *PRINTS, *ASSETS, *SHARES, *DIVIDENDS]
