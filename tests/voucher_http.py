"""House vouchers (房票) and land quotas (地票) through the real HTTP API.

A county with its housing authority, a developer pool (a developer with a project in the county
and one outside the county's area code, a second pool developer, a developer never admitted), a
price schedule in force, and village households whose members settled in town and whose
homesteads are withdrawn, ready to be compensated. On top of the exchange market of
``tests.exchange_http`` (its exchange centre lists and certifies land quotas like any right).

Each act is an entry signed by the organisation the rules name (the housing authority, the
county, a developer, the village, the exchange centre) and submitted to ``POST /v1/entries``:
the helpers return what they made and raise ``SubmitError`` on a refusal; ``refused`` shows a
refusal changed nothing.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from api.client import Person
from ledger.signing import KeyFile
from tests.exchange_http import CST, Market, Snapshot
from tests.registry_support import hexdigest
from tests.support import LedgerFixture

VOUCHER_TABLES = (
    "voucher_price_schedules",
    "voucher_pool_developers",
    "voucher_pool_projects",
    "vouchers",
    "voucher_movements",
    "voucher_redemptions",
    "voucher_purchases",
    "homestead_compensations",
)
QUOTA_TABLES = ("land_quotas",)
PRICES = {"suburb": 180_000, "plain": 150_000}  # fen per m² by zone; the hilly zones are not priced
APPRAISAL_FEN = 6_000_000  # the appraised house on each homestead
HOMESTEAD_M2 = 160
FACE_FEN = HOMESTEAD_M2 * PRICES["plain"] + APPRAISAL_FEN  # 30,000,000 fen for a plain homestead
OUTSIDE_AREA = "371002"  # 环翠区: another county of the city
BP = 10_000


def add_months(d: date, months: int) -> date:
    """The same day ``months`` months later, clamped to the month's end (the spec's reckoning,
    written here again so that tests do not take it from the rules they test)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def expiry_cash(face: int, used: int, bonus: int, balance: int, par_share_bp: int = 8500) -> int:
    """What an expired voucher's remainder is paid: at par once ``par_share_bp`` of the face was
    used, else less the bonus granted pro rata to the unused share."""
    if used * BP >= par_share_bp * face:
        return balance
    return balance - bonus * balance // face


@dataclass
class Withdrawn:
    """A household whose homestead was withdrawn (or is still held, when ``compensation`` is
    None), with its members."""

    household: str
    homestead: str
    members: list[str]  # party ids
    zone: str = "plain"
    area_m2: int = HOMESTEAD_M2
    compensation: str | None = "voucher"

    @property
    def face_fen(self) -> int:
        return self.area_m2 * PRICES.get(self.zone, 0) + APPRAISAL_FEN


@dataclass
class VoucherMarket(Market):
    authority: str = ""  # the county's housing authority
    developer: str = ""  # in the pool: ``project`` in the county, ``far_project`` outside it
    rival: str = ""  # another pool developer, with ``rival_project``
    stranger: str = ""  # a registered developer never admitted to the pool
    project: str = ""
    far_project: str = ""
    rival_project: str = ""
    schedule: str = ""  # in force from the day the market opened
    ready: list[Withdrawn] = field(default_factory=list)  # prepared, not yet handed out
    count: int = 0
    name: str = ""

    @classmethod
    async def open_vouchers(
        cls,
        fx: LedgerFixture,
        name: str,
        *,
        households: int = 6,
        held: int = 1,
        cash: int = 1,
        hilly: int = 0,
        full: bool = False,
    ) -> VoucherMarket:
        """The market (``Market.open``), the housing authority, the pool, the schedule and
        ``households`` withdrawn homesteads for vouchers, ``cash`` for cash, ``hilly`` in a zone
        the schedule does not price and ``held`` not withdrawn; ``close`` it at the end."""
        m = cast(VoucherMarket, await cls.open(fx, name, parcels=1, buyers=3, full=full))
        m.name = name
        m.authority = f"ha-{name}"
        await fx.register("county", m.authority, "housing_authority")
        m.developer, m.rival, m.stranger = f"dev-{name}", f"dev2-{name}", f"dev3-{name}"
        for developer in (m.developer, m.rival, m.stranger):
            await fx.register("county", developer, "developer")
        await m.admit(m.developer)
        await m.admit(m.rival)
        m.project, m.far_project, m.rival_project = f"P-{name}", f"PF-{name}", f"PR-{name}"
        await m.register_project(m.project, m.developer, area_code=fx.codes[m.v.township])
        await m.register_project(m.far_project, m.developer, area_code=OUTSIDE_AREA)
        await m.register_project(m.rival_project, m.rival)
        await m.prepare(households, "voucher")
        await m.prepare(cash, "cash")
        await m.prepare(hilly, "voucher", zone="hilly_flat", area_m2=120)
        await m.prepare(held, None)
        m.schedule = f"S-{name}"
        await m.publish(m.schedule)
        return m

    # Signers

    def key_of(self, org: str) -> KeyFile:
        return self.fx.keys[org]

    async def signed(self, key: KeyFile, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Every act of this builder goes through here: sign with ``key``, submit, the receipt."""
        return await self.fx.client.append(key, kind, payload)

    async def by_county(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await self.signed(self.key_of("county"), kind, payload)

    async def by_authority(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await self.signed(self.key_of(self.authority), kind, payload)

    async def by_village(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await self.signed(self.v.key, kind, payload)

    def next_id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}-{self.name}-{self.count}"

    # The clock

    def on_local(self, day: date, hour: int = 9) -> None:
        """The ledger's clock at ``hour`` o'clock China time on ``day`` (never back)."""
        self.move_to(datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - CST)

    # Households with withdrawn homesteads

    async def prepare(
        self,
        n: int,
        compensation: str | None,
        *,
        zone: str = "plain",
        area_m2: int = HOMESTEAD_M2,
        size: int = 2,
    ) -> list[Withdrawn]:
        """``n`` households of ``size`` confirmed members each (one notice period for all), each
        granted a homestead, filed as settled in town with the homestead retained, and the
        homestead withdrawn with ``compensation`` (None: kept)."""
        if n == 0:
            return []
        v = self.v
        made: list[tuple[str, list[Person]]] = [await v.household(size) for _ in range(n)]
        for household, people in made:
            for p in people:
                await v.admit(p.party, household)
        self.fx.clock.advance(days=8)  # type: ignore[attr-defined]
        out = []
        for household, people in made:
            for p in people:
                await v.append("member.confirmed", {"party": p.party})
            homestead = self.next_id("H")
            self.serial += 1
            await v.append(
                "homestead.granted",
                {
                    "homestead": homestead,
                    "household": household,
                    "plot_code": v.parcel(100_000 + self.serial),
                    "area_m2": area_m2,
                    "zone": zone,
                    "certificate_no": f"ZJ-{homestead}",
                },
            )
            persons = [p.party for p in people]
            await self.settle_in_town(household, persons, homestead)
            if compensation is not None:
                await self.withdraw_homestead(
                    homestead, compensation, area_m2 * PRICES.get(zone, 0) + APPRAISAL_FEN
                )
            out.append(Withdrawn(household, homestead, persons, zone, area_m2, compensation))
        self.ready += out
        return out

    async def settle_in_town(self, household: str, persons: list[str], homestead: str) -> None:
        """The whole household filed as settled in town (转移备案), its homestead retained."""
        rights = {"land_contracts": [], "homesteads": [homestead]}
        certificate = f"MC-{homestead}"
        await self.v.append(
            "certificate.membership_issued",
            {"certificate": certificate, "household": household, "persons": persons, "rights": rights},
        )
        await self.v.append(
            "certificate.transfer_filed",
            {
                "certificate": f"TF-{homestead}",
                "village": self.v.village,
                "scope": "household",
                "household": household,
                "persons": persons,
                "membership_certificate": certificate,
                "rights": rights,
            },
            key=self.fx.keys[self.v.township],
        )

    async def withdraw_homestead(self, homestead: str, compensation: str, amount_fen: int) -> None:
        await self.v.append(
            "homestead.withdrawn",
            {
                "homestead": homestead,
                "compensation": compensation,
                "compensation_fen": amount_fen,
                "agreement": hexdigest(f"withdrawal {homestead}"),
            },
        )

    def peek(self, compensation: str | None = "voucher", zone: str = "plain") -> Withdrawn:
        """A prepared household no test used yet, left for others (refusals change nothing)."""
        for w in self.ready:
            if w.compensation == compensation and w.zone == zone:
                return w
        raise AssertionError(f"no prepared household left for {compensation} in {zone}: prepare more")

    def take(self, compensation: str | None = "voucher", zone: str = "plain") -> Withdrawn:
        """A prepared household no test used yet, for a test that compensates it."""
        w = self.peek(compensation, zone)
        self.ready.remove(w)
        return w

    # Price schedules and the developer pool

    async def publish(
        self, schedule: str, effective_from: date | None = None, prices: dict[str, int] | None = None
    ) -> dict[str, Any]:
        return await self.by_county(
            "voucher.prices_published", self.schedule_payload(schedule, effective_from, prices)
        )

    def schedule_payload(
        self, schedule: str, effective_from: date | None = None, prices: dict[str, int] | None = None
    ) -> dict[str, Any]:
        return {
            "schedule": schedule,
            "effective_from": (effective_from or self.today()).isoformat(),
            "prices": dict(prices or PRICES),
        }

    async def admit(self, developer: str) -> dict[str, Any]:
        return await self.by_county("voucher.developer_admitted", {"developer": developer})

    async def leave(self, developer: str, key: KeyFile | None = None) -> dict[str, Any]:
        return await self.signed(
            key or self.key_of("county"), "voucher.developer_left", {"developer": developer}
        )

    def project_payload(self, project: str, developer: str, area_code: str | None = None) -> dict[str, Any]:
        return {
            "project": project,
            "developer": developer,
            "presale_permit": f"WD-{project}",
            "area_code": area_code or self.fx.codes["county"],
        }

    async def register_project(
        self, project: str, developer: str, area_code: str | None = None
    ) -> dict[str, Any]:
        return await self.by_county(
            "voucher.project_registered", self.project_payload(project, developer, area_code)
        )

    # Compensation: a voucher, or cash

    def issue_payload(self, w: Withdrawn, voucher: str | None = None, **over: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "voucher": voucher or self.next_id("V"),
            "homestead": w.homestead,
            "holders": list(w.members),
            "schedule": self.schedule,
            "appraisal": hexdigest(f"appraisal {w.homestead}"),
            "appraisal_fen": APPRAISAL_FEN,
            "face_fen": w.face_fen,
        }
        payload.update(over)
        return payload

    async def issue(self, w: Withdrawn | None = None, **over: Any) -> str:
        """A voucher for ``w`` (a prepared voucher household by default); its id."""
        payload = self.issue_payload(w or self.take(), **over)
        await self.by_authority("voucher.issued", payload)
        return str(payload["voucher"])

    def cash_payload(self, w: Withdrawn, **over: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "homestead": w.homestead,
            "schedule": self.schedule,
            "appraisal": hexdigest(f"appraisal {w.homestead}"),
            "appraisal_fen": APPRAISAL_FEN,
            "amount_fen": w.face_fen,
            "payment": hexdigest(f"cash {w.homestead}"),
        }
        payload.update(over)
        return payload

    async def compensate_cash(self, w: Withdrawn, **over: Any) -> dict[str, Any]:
        return await self.by_authority("voucher.cash_compensated", self.cash_payload(w, **over))

    # Redemption and settlement

    async def holders_of(self, voucher: str) -> list[str]:
        return list(_json((await self.voucher_row(voucher))["holders"]))

    def redeem_payload(
        self,
        voucher: str,
        amount_fen: int,
        holder: str,
        *,
        project: str | None = None,
        redemption: str | None = None,
        purchase: str | None = None,
        price_fen: int | None = None,
        unit: str = "1-101",
    ) -> dict[str, Any]:
        redemption = redemption or self.next_id("R")
        return {
            "redemption": redemption,
            "voucher": voucher,
            "holder": holder,
            "project": project or self.project,
            "purchase_contract": purchase or hexdigest(f"purchase {redemption}"),
            "unit": unit,
            "price_fen": price_fen if price_fen is not None else 2 * FACE_FEN,
            "amount_fen": amount_fen,
        }

    async def redeem(
        self, voucher: str, amount_fen: int, *, developer: str | None = None, **over: Any
    ) -> str:
        """Redeem ``amount_fen`` of ``voucher`` with ``developer`` (the pool developer, on its
        county project, by default) for the first holder; the redemption's id."""
        holder = over.pop("holder", None) or (await self.holders_of(voucher))[0]
        payload = self.redeem_payload(voucher, amount_fen, holder, **over)
        await self.signed(self.key_of(developer or self.developer), "voucher.redeemed", payload)
        return str(payload["redemption"])

    async def stage_due(self, redemption: str, stage: str) -> int:
        """What stage ``stage`` of ``redemption`` pays: cumulative shares rounded down, differenced."""
        row = await self.redemption_row(redemption)
        value, cumulative, paid = int(row["value_fen"]), 0, 0
        for name, bp in _json(row["stages"]):
            cumulative += int(bp)
            due = value * cumulative // BP
            if name == stage:
                return due - paid
            paid = due
        raise AssertionError(f"{redemption} has no stage {stage}")

    async def settle_payload(
        self, redemption: str, stage: str, amount_fen: int | None = None
    ) -> dict[str, Any]:
        return {
            "redemption": redemption,
            "stage": stage,
            "amount_fen": amount_fen if amount_fen is not None else await self.stage_due(redemption, stage),
            "payment": hexdigest(f"settle {redemption} {stage}"),
        }

    async def settle(self, redemption: str, stage: str, amount_fen: int | None = None) -> dict[str, Any]:
        return await self.by_authority(
            "voucher.settled", await self.settle_payload(redemption, stage, amount_fen)
        )

    # Transfer, expiry, cash-out

    def transfer_payload(
        self, voucher: str, parts: list[tuple[list[str], int]], *, floor_area_m2: int = 200, **over: Any
    ) -> dict[str, Any]:
        """Split ``voucher`` into ``parts`` (holders, amount); new ids for the children."""
        payload: dict[str, Any] = {
            "voucher": voucher,
            "consent": hexdigest(f"consent {voucher}"),
            "housing_record": hexdigest(f"housing {voucher}"),
            "household_floor_area_m2": floor_area_m2,
            "parts": [
                {"voucher": self.next_id("VT"), "holders": holders, "amount_fen": amount}
                for holders, amount in parts
            ],
        }
        payload.update(over)
        return payload

    async def transfer(self, voucher: str, parts: list[tuple[list[str], int]], **over: Any) -> list[str]:
        """Transfer ``voucher`` in ``parts``; the children's ids."""
        payload = self.transfer_payload(voucher, parts, **over)
        await self.by_authority("voucher.transferred", payload)
        return [p["voucher"] for p in payload["parts"]]

    async def cash_due(self, voucher: str) -> int:
        row = await self.voucher_row(voucher)
        return expiry_cash(
            row["face_fen"], row["used_fen"], row["bonus_fen"], row["balance_fen"], row["par_share_bp"]
        )

    async def expire(self, voucher: str, cash_fen: int | None = None, key: KeyFile | None = None) -> int:
        """Record ``voucher``'s expiry (by the housing authority unless ``key``); the cash due."""
        cash = cash_fen if cash_fen is not None else await self.cash_due(voucher)
        await self.signed(
            key or self.key_of(self.authority), "voucher.expired", {"voucher": voucher, "cash_fen": cash}
        )
        return cash

    def cash_out_payload(self, voucher: str, amount_fen: int) -> dict[str, Any]:
        return {"voucher": voucher, "amount_fen": amount_fen, "payment": hexdigest(f"cash out {voucher}")}

    async def cash_out(self, voucher: str, amount_fen: int | None = None) -> dict[str, Any]:
        if amount_fen is None:
            amount_fen = int((await self.voucher_row(voucher))["cash_due_fen"])
        return await self.by_authority("voucher.cashed_out", self.cash_out_payload(voucher, amount_fen))

    def past_validity(self, valid_until: date) -> None:
        """The clock on the day after ``valid_until``."""
        self.on_local(valid_until + timedelta(days=1))

    # Land quotas

    def quota_payload(self, quota: str, site: dict[str, Any]) -> dict[str, Any]:
        return {
            "quota": quota,
            "site": site,
            "holder_consent": hexdigest(f"holder consent {quota}"),
            "collective_consent": hexdigest(f"collective consent {quota}"),
        }

    @staticmethod
    def homestead_site(w: Withdrawn | str) -> dict[str, Any]:
        return {"type": "homestead", "homestead": w if isinstance(w, str) else w.homestead}

    def collective_site(self, n: int | None = None, area_m2: int = 1_000) -> dict[str, Any]:
        if n is None:
            self.serial += 1
            n = 200_000 + self.serial
        return {"type": "collective_site", "parcel_code": self.v.parcel(n), "area_m2": area_m2}

    async def apply_quota(self, site: dict[str, Any], quota: str | None = None) -> str:
        quota = quota or self.next_id("Q")
        await self.by_village("quota.applied", self.quota_payload(quota, site))
        return quota

    async def approve_quota(self, quota: str) -> dict[str, Any]:
        return await self.by_county(
            "quota.project_approved", {"quota": quota, "project_document": hexdigest(f"project {quota}")}
        )

    def acceptance_payload(self, quota: str, measured_m2: int) -> dict[str, Any]:
        return {
            "quota": quota,
            "measured_m2": measured_m2,
            "acceptance_document": hexdigest(f"acceptance {quota}"),
        }

    async def accept_quota(self, quota: str, measured_m2: int) -> dict[str, Any]:
        return await self.by_county("quota.accepted", self.acceptance_payload(quota, measured_m2))

    async def confirm_quota(self, quota: str, quota_m2: int) -> dict[str, Any]:
        return await self.by_county("quota.confirmed", {"quota": quota, "quota_m2": quota_m2})

    async def confirmed_quota(self, site: dict[str, Any], measured_m2: int = 150) -> str:
        """A quota for ``site`` applied for, approved, accepted at ``measured_m2`` and confirmed."""
        quota = await self.apply_quota(site)
        await self.approve_quota(quota)
        await self.accept_quota(quota, measured_m2)
        await self.confirm_quota(quota, measured_m2)
        return quota

    @staticmethod
    def quota_right(quota: str) -> dict[str, Any]:
        return {"type": "land_quota", "quota": quota}

    async def trade_quota(
        self, quota: str, listing: str | None = None, amounts: tuple[int, ...] = (1_000_000, 1_100_000)
    ) -> str:
        """List a confirmed quota at a total price, two entities bid ``amounts``, the last wins,
        signs, pays, the loser is refunded and the certificate moves the quota; the listing."""
        listing = listing or f"L-{quota}"
        numbers = await self.bidding(listing, self.quota_right(quota), bidders=len(amounts))
        for number, amount in zip(numbers, amounts, strict=True):
            await self.bid(listing, number, amount)
        await self.after_close(listing)
        await self.award(listing, numbers[-1], amounts[-1])
        await self.sign_contract(listing)
        await self.pay(listing)
        for loser in numbers[:-1]:
            await self.refund(listing, loser)
        await self.certify(listing)
        return listing

    def split_payload(self, quota: str, household_fen: int, collective_fen: int) -> dict[str, Any]:
        return {
            "quota": quota,
            "household_fen": household_fen,
            "collective_fen": collective_fen,
            "payment": hexdigest(f"proceeds {quota}"),
        }

    async def split(self, quota: str, share_bp: int = 8500) -> dict[str, Any]:
        """The proceeds split by the policy's ``share_bp`` to the household (or collective site's
        share), signed by the listing's exchange centre."""
        value = int((await self.quota_row(quota))["value_fen"])
        household = value * share_bp // BP
        payload = self.split_payload(quota, household, value - household)
        return await self.signed(self.key, "quota.proceeds_split", payload)

    def use_payload(self, quota: str, zone: str | None = None) -> dict[str, Any]:
        return {
            "quota": quota,
            "zone": zone or f"{OUTSIDE_AREA}-R2",
            "approval": hexdigest(f"use {quota}"),
        }

    async def use_quota(self, quota: str, zone: str | None = None) -> dict[str, Any]:
        return await self.by_county("quota.used", self.use_payload(quota, zone))

    # Reads of the projection, and the refusal check over the new tables too

    async def row(self, table: str, **where: Any) -> dict[str, Any]:
        assert self.db is not None
        clause = " AND ".join(f"{column} = ${n}" for n, column in enumerate(where, 1))
        found = await self.db.fetchrow(f"SELECT * FROM {table} WHERE {clause}", *where.values())
        assert found is not None, f"no row of {table} where {where}"
        return dict(found)

    async def voucher_row(self, voucher: str) -> dict[str, Any]:
        return await self.row("vouchers", id=voucher)

    async def redemption_row(self, redemption: str) -> dict[str, Any]:
        return await self.row("voucher_redemptions", id=redemption)

    async def quota_row(self, quota: str) -> dict[str, Any]:
        return await self.row("land_quotas", id=quota)

    async def snapshot(self, listing: str | None = None) -> Snapshot:
        snap = await super().snapshot(listing)
        assert self.db is not None
        present = {
            r["table_name"]
            for r in await self.db.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
        for table in (t for t in (*VOUCHER_TABLES, *QUOTA_TABLES) if t in present):
            snap.rows[table] = [tuple(r) for r in await self.db.fetch(f"SELECT * FROM {table} ORDER BY 1, 2")]
        return snap

    async def refused_by(
        self, org: str, kind: str, payload: dict[str, Any], code: str, *, status: int = 422
    ) -> dict[str, Any]:
        """``refused`` with the entry signed by ``org``."""
        return await self.refused(kind, payload, code, key=self.key_of(org), status=status)


def _json(value: Any) -> Any:
    """A JSONB column as asyncpg gives it (text) decoded."""
    return json.loads(value) if isinstance(value, str) else value
