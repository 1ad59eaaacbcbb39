"""The county's monitoring dashboard (``/console/county/monitoring``): people settled in town by
township over time, the land and homestead area the settled households retain, the exchange's
certified deals (volume and average value) by township, the vouchers issued, redeemed and
outstanding, and every figure the county set a target for beside it (``monitoring_targets``).

The figures are the monitoring reads' (``api.reads.monitoring``, ``vouchers_monitoring``,
``exchange_monitoring``) as of the latest checkpoint; "over time" samples them at up to
``SAMPLES`` seqs spread over the ledger. Each chart is inline SVG drawn here (no script), with
its figures in a table under it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from markupsafe import Markup

from api.console.auth_routes import CONSOLE
from api.console.charts import bar_chart, line_chart
from api.console.county_desk import HOME, ROLE, county_page, own_county
from api.console.guard import SignedIn
from api.console.render import choices, translate
from api.http.dependencies import Db, Service, Session
from api.reads.evidence import snapshot
from api.reads.exchange_board import area_mu
from api.reads.exchange_monitoring import exchange_monitoring
from api.reads.monitoring import monitoring_counts
from api.reads.vouchers import local_date_of
from api.reads.vouchers_monitoring import voucher_monitoring
from contracts.registry import china_date
from ledger.errors import Rejection

SAMPLES = 6  # points of the settled-people line: the ledger's seqs cut in equal parts


def sample_seqs(size: int) -> list[int]:
    """Up to ``SAMPLES`` seqs from the first record to the last, evenly spread, the last included."""
    last = size - 1
    if last <= 0:
        return [0]
    n = min(SAMPLES, last + 1)
    return sorted({round(last * (i + 1) / n) for i in range(n)})


def short_name(name: str) -> str:
    """A township as a chart's label names it: ``环翠区泊于镇`` for ``环翠区泊于镇人民政府`` (the
    tables beside the charts keep the whole name)."""
    return name.removesuffix("人民政府") or name


@get(HOME + "monitoring", opt=ROLE, **CONSOLE)
async def monitoring_page(
    request: Request[Any, Any, Any], console: SignedIn, session: Session, db: Db, service: Service
) -> Response[Any]:
    """The dashboard: charts and tables of the county's figures, against its targets."""
    county = await own_county(session, console)
    lang = choices(request).lang  # the charts' words in the page's language

    def t(key: str, **values: Any) -> str:
        return translate(lang, key, **values)

    snap = await snapshot(db)
    seqs = sample_seqs(snap.size)
    over_time = []
    for seq in seqs:
        try:
            counts = await monitoring_counts(db, county, seq)
        except Rejection as e:
            if e.code != "org.not_found":
                raise
            continue  # the county was registered after this sample: nothing to count yet
        over_time.append((seq, (await local_date_of(db, seq)).isoformat(), counts))
    latest = over_time[-1][2]  # the last sample is the ledger's head, where the county is
    townships = [c["org"] for c in latest["children"]]

    def settled(counts: dict[str, Any], town: str) -> float:
        """A township's people settled in town in one sample, by its id (a township registered
        later may sort before the others), 0 before it was registered."""
        for child in counts["children"]:
            if child["org"]["id"] == town:
                return float(child["figures"]["people_settled_in_town"])
        return 0.0

    people: list[tuple[str, list[float]]] = [
        (
            t("county.monitoring.county_total"),
            [c["figures"]["people_settled_in_town"] for _, _, c in over_time],
        )
    ]
    for town in townships:
        people.append((short_name(town["name"]), [settled(c, town["id"]) for _, _, c in over_time]))
    vouchers = await voucher_monitoring(db, county, None)
    targets = {x["name"]: x for x in vouchers["targets"]}
    settled_target = targets.get("people_settled_in_town", {}).get("target")
    labels = [day for _, day, _ in over_time]
    empty = t("county.monitoring.no_data")

    def by_township(title: str, figure: str) -> Markup:
        """A bar per township of a figure (in m²) as the latest counts hold it."""
        areas = [c["figures"][figure] for c in latest["children"]]
        return bar_chart(t(title), [short_name(x["name"]) for x in townships], areas, unit="m²", empty=empty)

    charts = {
        "people": line_chart(
            t("county.monitoring.people"),
            labels,
            people[:4],
            unit=t("county.monitoring.persons"),
            target=settled_target,
            target_label=t("county.monitoring.target"),
            empty=empty,
        ),
        "land": by_township("county.monitoring.retained_land", "settled_retained_land_area_m2"),
        "homestead": by_township(
            "county.monitoring.retained_homestead", "settled_retained_homestead_area_m2"
        ),
    }
    exchange = await exchange_monitoring(db, county, china_date(service.appender.clock()))
    deals = [(short_name(x["org"]["name"]), x["figures"]["deals_certified"]) for x in exchange["townships"]]
    charts["exchange"] = bar_chart(
        t("county.monitoring.exchange"),
        [n for n, _ in deals],
        [d["fen"] / 100 for _, d in deals],
        unit=t("voucher.yuan"),
        empty=empty,
    )
    v = vouchers["figures"]
    voucher_bars = [
        (t("county.monitoring.issued"), v["issued"]["fen"]),
        (t("county.monitoring.redeemed"), v["redeemed"]["fen"]),
        (t("county.monitoring.outstanding"), v["outstanding"]["fen"]),
        (t("county.monitoring.expired"), v["expired"]["fen"] + v["cashed_out"]["fen"]),
    ]
    issued_target = targets.get("vouchers_issued_fen", {}).get("target")
    charts["vouchers"] = bar_chart(
        t("county.monitoring.vouchers"),
        [n for n, _ in voucher_bars],
        [f / 100 for _, f in voucher_bars],
        unit=t("voucher.yuan"),
        target=issued_target / 100 if issued_target else None,
        target_label=t("county.monitoring.target_issued"),
        empty=empty,
    )
    return county_page(
        request,
        console,
        "county_monitoring.html",
        county=county,
        as_of=snap.size - 1,
        charts=charts,
        over_time=over_time,
        people=people,
        labels=labels,
        latest=latest,
        exchange=exchange,
        deals=deals,
        vouchers=vouchers,
        voucher_bars=voucher_bars,
        targets=vouchers["targets"],
        area_mu=area_mu,
    )


ROUTES: list[Any] = [monitoring_page]
