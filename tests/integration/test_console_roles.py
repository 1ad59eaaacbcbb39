"""Every console page against every role, through real HTTP against real PostgreSQL.

The pages are not named here: they are read from the app's own routes (every route under
``/console/`` but the sign-in, sign-out, static files and the home), so that a page added later
is covered without this file changing. For each page and each role (and an anonymous visitor):

- an anonymous visitor is sent to sign in (303 to ``/console/login``);
- a role the page's ``opt`` does not name gets 403;
- a POST by another role (with its session's CSRF token) gets 403, a POST without the token
  gets 403, and neither records anything (the log's size unchanged);
- every page a role may see, filled with the ids of a small world (a village with a household
  whose member has a distinctive name and ID number, a township, an exchange with a listing
  that member bid on, a county with a voucher, a developer) and with another organisation's,
  never shows that name or ID number to anyone but the village's own clerk, and never fails;
- a user asking for a path that names another organisation's id (``org_id``, a village, a
  household, a listing ...) gets 403 or 404, never the page.

A path parameter is filled from ``ours``/``theirs`` by its name; a name no table knows gets a
plausible id (and is reported by ``test_every_path_parameter_is_known`` so that the table grows).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest_asyncio

from api.client import Person
from contracts.identifiers import resident_id_check_char
from tests.exchange_http import ExchangeHttp
from tests.integration.test_console_accounts import Browser
from tests.integration.test_console_township import add_users, hold_keys
from tests.page_weight import LIMIT_BYTES
from tests.support import LedgerFixture
from tests.voucher_http import HOMESTEAD_M2, VoucherMarket, Withdrawn

ROLES = ("collective_clerk", "township_officer", "exchange_staff", "county_officer", "developer", "auditor")
NOT_PAGES = ("/console/login", "/console/logout", "/console/static")
HOME = "/console"
NAME = "欧阳雪梅"  # no name the test helpers make has a two-character surname
ID_FIRST17 = "37100319770707135"
ID_NUMBER = ID_FIRST17 + resident_id_check_char(ID_FIRST17)
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
# The path parameters a role's organisation owns: naming another organisation's answers 403/404.
OWNED = {
    "collective_clerk": ("household", "party", "person", "member", "village", "collective"),
    "township_officer": ("village", "collective", "household", "township"),
    "exchange_staff": ("listing", "exchange"),
    "county_officer": ("authority",),
    "developer": ("redemption", "project"),
    "auditor": (),
}


@dataclass(frozen=True)
class Page:
    method: str
    path: str  # the route's path, parameters in braces
    roles: frozenset[str] | None  # None: every signed-in role

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.path)

    def allows(self, role: str) -> bool:
        return self.roles is None or role in self.roles

    def owned_by(self, role: str) -> bool:
        """Whether the path names something the role's organisation owns."""
        return any(p == "org_id" or base(p) in OWNED[role] for p in self.params)


def base(param: str) -> str:
    """``household_id`` -> ``household``."""
    return param.removesuffix("_id").removesuffix("_no")


@dataclass
class Side:
    """One side of the world: an organisation per role, a user of each, and the ids."""

    orgs: dict[str, str]
    users: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)

    def fill(self, page: Page, role: str) -> str:
        def value(m: re.Match[str]) -> str:
            name = m.group(1)
            if name == "org_id":
                return quote(self.orgs.get(role, PLAUSIBLE), safe="")
            return quote(self.ids.get(name) or self.ids.get(base(name)) or PLAUSIBLE, safe="")

        return PARAM.sub(value, page.path)

    def lookups(self) -> str:
        """A query naming this side's ids the way look-up pages take them (pages ignore the
        rest): a voucher, a homestead, a right's holder, a party."""
        ids = self.ids
        asked = {
            "voucher": ids["voucher"],
            "homestead": ids.get("homestead", PLAUSIBLE),
            "holder": ids["household"],
            "party": ids["party"],
            "q": ids["party"],
        }
        return "?" + urlencode(asked)


PLAUSIBLE = "rm-0001"


@dataclass
class World:
    fx: LedgerFixture
    ours: Side
    theirs: Side
    pages: list[Page]


def console_pages(app: Any) -> list[Page]:
    """Every console page the app serves (GET and POST), read from its routes."""
    found = []
    for route in app.routes:
        path = route.path
        if not path.startswith("/console/") or path.startswith(NOT_PAGES):
            continue
        for handler in getattr(route, "route_handlers", ()):
            roles = handler.opt.get("console_roles")
            for method in sorted(handler.http_methods & {"GET", "POST"}):
                found.append(Page(method, path, roles))
    return sorted(found, key=lambda p: (p.path, p.method))


async def household_of(v: Any, person: Person) -> str:
    """A household headed by ``person``, admitted and confirmed a member."""
    await v.person(person)
    household = str(uuid.uuid4())
    await v.append(
        "household.registered",
        {
            "household": household,
            "head": person.party,
            "members": [{"party": person.party, "relation": "head"}],
        },
    )
    await v.admit(person.party, household)
    v.fx.clock.advance(days=8)
    await v.append("member.confirmed", {"party": person.party})
    return household


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(ledger: LedgerFixture) -> AsyncIterator[World]:
    fx = ledger
    m = await VoucherMarket.open_vouchers(fx, "rm", households=0, held=0, cash=0)
    try:
        person = Person(str(uuid.uuid4()), NAME, ID_NUMBER, "M", "1977-07-07", "13900000001")
        household = await household_of(m.v, person)
        listing = "L-rm-1"
        await m.list(listing)
        await m.register(listing, person.party)  # 竞买人 1
        # The person's household then settles in town and its homestead is withdrawn for a
        # voucher that the person holds.
        homestead = "H-rm-1"
        await m.v.append(
            "homestead.granted",
            {
                "homestead": homestead,
                "household": household,
                "plot_code": m.v.parcel(990),
                "area_m2": HOMESTEAD_M2,
                "zone": "plain",
                "certificate_no": f"ZJ-{homestead}",
            },
        )
        await m.settle_in_town(household, [person.party], homestead)
        withdrawn = Withdrawn(household, homestead, [person.party])
        await m.withdraw_homestead(homestead, "voucher", withdrawn.face_fen)
        voucher = await m.issue(withdrawn)
        other = await ExchangeHttp.build(fx, "ro", buyers=1, parcels=1)
        await other.list("L-ro-1")
        other_household, other_people = await other.v.members(1)
        await fx.register("county", "ha-ro", "housing_authority")
        ours = Side(
            {
                "collective_clerk": m.v.village,
                "township_officer": m.v.township,
                "exchange_staff": m.exchange,
                "county_officer": m.authority,
                "developer": m.developer,
                "auditor": "county",
            },
            {role: f"rm-{role.replace('_', '-')}" for role in ROLES},
            {
                "village": m.v.village,
                "collective": m.v.village,
                "township": m.v.township,
                "household": household,
                "party": person.party,
                "person": person.party,
                "member": person.party,
                "listing": listing,
                "number": "1",
                "bidder": "1",
                "exchange": m.exchange,
                "voucher": voucher,
                "developer": m.developer,
                "project": m.project,
                "contract": m.contract,
                "homestead": homestead,
                "certificate": f"MC-{homestead}",
                "schedule": m.schedule,
                "authority": m.authority,
                "seq": "1",
                "size": "1",
                "quota": "Q-rm-0001",  # no quota in this world: a page of one answers 404
                "act": "bid",  # the verb of an act's POST path
            },
        )
        theirs = Side(
            {
                "collective_clerk": other.v.village,
                "township_officer": other.v.township,
                "exchange_staff": other.exchange,
                "county_officer": "ha-ro",
                "developer": m.rival,
            },
            {role: f"ro-{role.replace('_', '-')}" for role in ROLES if role != "auditor"},
            {
                "village": other.v.village,
                "collective": other.v.village,
                "township": other.v.township,
                "household": other_household,
                "party": other_people[0].party,
                "person": other_people[0].party,
                "member": other_people[0].party,
                "listing": "L-ro-1",
                "number": "1",
                "bidder": "1",
                "exchange": other.exchange,
                "voucher": voucher,
                "developer": m.rival,
                "project": m.rival_project,
                "contract": other.contract,
                "schedule": m.schedule,
                "authority": "ha-ro",
                "seq": "1",
                "size": "1",
                "quota": "Q-rm-0001",  # no quota in this world: a page of one answers 404
                "act": "bid",  # the verb of an act's POST path
            },
        )
        await hold_keys(fx, *ours.orgs.values(), *theirs.orgs.values())
        await add_users(
            fx,
            [(side.orgs[role], role, side.users[role]) for side in (ours, theirs) for role in side.users],
        )
        app = fx.client.http.app  # type: ignore[attr-defined]  # the test client's
        yield World(fx, ours, theirs, console_pages(app))
    finally:
        await m.close()


async def signed_in(fx: LedgerFixture, username: str) -> Browser:
    b = Browser(fx)
    r = await b.sign_in(username)
    assert r.status_code == 303, (username, r.status_code, r.text[:300])
    return b


async def sessions(w: World, side: Side) -> dict[str, Browser]:
    return {role: await signed_in(w.fx, username) for role, username in side.users.items()}


def gets(w: World) -> list[Page]:
    return [p for p in w.pages if p.method == "GET"]


async def test_the_matrix_has_pages_of_every_kind(world: World) -> None:
    """The routes are read: the known desks' pages are there, and some of them act."""
    paths = {p.path for p in world.pages}
    assert {"/console/collective", "/console/township", "/console/developer"} <= paths, paths
    assert any(p.method == "POST" for p in world.pages)
    assert any(p.params for p in world.pages)


async def test_every_path_parameter_is_known(world: World) -> None:
    """A parameter no table names would be filled with a plausible id only: say which."""
    unknown = sorted(
        {
            (p.path, name)
            for p in world.pages
            for name in p.params
            if name != "org_id" and name not in world.ours.ids and base(name) not in world.ours.ids
        }
    )
    assert not unknown, f"add these path parameters to the world's tables: {unknown}"


async def test_anonymous_visitors_are_sent_to_sign_in(world: World) -> None:
    anonymous = Browser(world.fx)
    wrong = []
    for page in world.pages:
        path = world.ours.fill(page, "collective_clerk")
        if page.method == "GET":
            r = await anonymous.get(path)
        else:
            r = await anonymous.post(path, {"csrf": "x"})
        if r.status_code != 303 or not r.headers.get("location", "").startswith("/console/login"):
            wrong.append((page.method, path, r.status_code))
    assert not wrong, wrong


async def test_a_role_a_page_is_not_for_is_refused(world: World) -> None:
    w = world
    browsers = await sessions(w, w.ours)
    wrong = []
    for page in gets(w):
        for role, b in browsers.items():
            if page.allows(role):
                continue
            r = await b.get(w.ours.fill(page, role))
            if r.status_code != 403:
                wrong.append((page.path, role, r.status_code))
            elif NAME in r.text or ID_NUMBER in r.text:
                wrong.append((page.path, role, "personal data on the refusal"))
    assert not wrong, wrong


async def test_a_post_by_another_role_or_without_the_token_records_nothing(world: World) -> None:
    w = world
    browsers = await sessions(w, w.ours)
    tokens = {role: await b.csrf() for role, b in browsers.items()}
    size = await w.fx.size()
    wrong = []
    for page in w.pages:
        if page.method != "POST" or page.roles is None:
            continue
        for role, b in browsers.items():
            path = w.ours.fill(page, role)
            if not page.allows(role):
                r = await b.post(path, {"csrf": tokens[role], "entry_id": str(uuid.uuid4())})
                if r.status_code != 403:
                    wrong.append((page.path, role, "another role", r.status_code))
            else:
                r = await b.post(path, {"entry_id": str(uuid.uuid4())})
                if r.status_code != 403:
                    wrong.append((page.path, role, "no CSRF token", r.status_code))
    assert not wrong, wrong
    assert await w.fx.size() == size, "a refused console POST recorded something"


async def test_personal_data_is_shown_to_the_village_s_own_clerk_only(world: World) -> None:
    w = world
    seen = []
    failed = []
    heavy = []  # a page's own bytes, before what it loads
    fetched = 0
    for side in (w.ours, w.theirs):
        browsers = await sessions(w, side)
        for role, b in browsers.items():
            if side is w.ours and role == "collective_clerk":
                continue  # the village's own clerk: the one who may see its people
            for page in gets(w):
                if not page.allows(role):
                    continue
                for ids in (w.ours, w.theirs):
                    filled = ids.fill(page, role)
                    for path in (filled, filled + ids.lookups()):
                        r = await b.get(path)
                        fetched += r.status_code == 200
                        if r.status_code >= 500:
                            failed.append((path, side.users[role], r.status_code))
                        if NAME in r.text or ID_NUMBER in r.text:
                            seen.append((path, side.users[role], r.status_code))
                        if len(r.content) >= LIMIT_BYTES:
                            heavy.append((path, side.users[role], len(r.content)))
    assert not failed, failed
    assert fetched >= 10, "hardly any page was shown: the world's ids or users are wrong"
    assert not seen, f"personal data shown outside the village's own clerk: {seen}"
    assert not heavy, f"pages over 100 KB: {heavy}"


async def test_the_village_s_own_clerk_does_see_its_people(world: World) -> None:
    """The personal-data check can fail: the name is on the clerk's own pages."""
    b = await signed_in(world.fx, world.ours.users["collective_clerk"])
    household = world.ours.ids["household"]
    r = await b.get(f"/console/collective/households/{household}")
    assert r.status_code == 200 and NAME in r.text, r.text[:500]


async def test_another_organisation_s_ids_are_refused(world: World) -> None:
    """A user asking for a page that names another organisation's id: 403 or 404."""
    w = world
    wrong = []
    asked = 0
    for asking, named in ((w.ours, w.theirs), (w.theirs, w.ours)):
        browsers = await sessions(w, asking)
        for role, b in browsers.items():
            for page in gets(w):
                if not page.allows(role) or not page.owned_by(role) or role not in named.orgs:
                    continue
                path = named.fill(page, role)
                r = await b.get(path)
                asked += 1
                if r.status_code not in (403, 404):
                    wrong.append((path, asking.users[role], r.status_code))
                elif NAME in r.text or ID_NUMBER in r.text:
                    wrong.append((path, asking.users[role], "personal data on the refusal"))
    assert asked >= 4, "the pages that name an organisation's ids were not found"
    assert not wrong, wrong


async def test_no_one_acts_for_another_organisation(world: World) -> None:
    """A POST naming another organisation's ids, by a user of the role it is for, with the
    session's CSRF token: 403 or 404, and nothing recorded."""
    w = world
    size = await w.fx.size()
    wrong = []
    acted = 0
    for asking, named in ((w.ours, w.theirs), (w.theirs, w.ours)):
        browsers = await sessions(w, asking)
        for role, b in browsers.items():
            token = await b.csrf()
            for page in w.pages:
                if page.method != "POST" or not page.allows(role) or not page.owned_by(role):
                    continue
                if role not in named.orgs:
                    continue
                path = named.fill(page, role)
                r = await b.post(path, {"csrf": token, "entry_id": str(uuid.uuid4())})
                acted += 1
                if r.status_code not in (403, 404):
                    wrong.append((path, asking.users[role], r.status_code))
    assert acted >= 2, "no console form names an organisation's ids"
    assert not wrong, wrong
    assert await w.fx.size() == size, "a POST for another organisation recorded something"
