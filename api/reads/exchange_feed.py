"""The exchange's Atom 1.0 feed (RFC 4287): announcements (挂牌公告) and outcomes (成交公示,
流拍, 撤牌, and defaults: a winner's default voids its award), newest first, one entry per step
that made them.

An entry's id is a URN of the ledger's origin, the listing and the step's seq, so it never
changes once published, and its text is made from that step (the amount and the bidder it
recorded) and the listing's fixed terms, never from what changed later. Links are absolute,
to the listing's JSON. The XML is built with ``xml.etree``, which escapes every text and
attribute; everything shown comes from identifiers, codes and numbers on the log.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import quote

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.reads.exchange_board import area_mu, bidder_label
from contracts.exchange.tables import Listing, ListingStep
from ledger.entry import format_time

ATOM = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"
HEADINGS = {
    "exchange.listed": "挂牌公告",
    "exchange.awarded": "成交公示",
    "exchange.failed": "流拍公告",
    "exchange.withdrawn": "撤牌公告",
    "exchange.defaulted": "违约公告",
}
RIGHTS = {
    "land_management": "土地经营权",
    "shares": "集体股权",
    "homestead": "宅基地使用权",
    "collective_asset": "集体经营性资产",
    "land_quota": "建设用地节余指标（地票）",
}
MODES = {"lease": "出租", "subcontract": "转包", "shares": "入股"}


def yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d} 元"


def priced(listing: Listing, fen: int) -> str:
    return yuan(fen) + ("/亩·年" if listing.price_unit == "per_mu_year" else "")


def right_text(listing: Listing) -> str:
    r, kind = listing.right, listing.right_type
    text = RIGHTS.get(kind, kind)
    if kind == "land_management":
        mode = MODES.get(r["mode"], r["mode"])
        return f"{text}（{mode}）{listing.quantity:,} ㎡（{area_mu(listing.quantity)} 亩）"
    if kind == "shares":
        return f"{text} {listing.quantity:,} 股"
    if kind in ("homestead", "land_quota"):
        return f"{text} {listing.quantity:,} ㎡"
    return f"{text}（{r['category']}）"


def title(step: ListingStep, listing: Listing) -> str:
    heading = f"{HEADINGS[step.kind]} {listing.id}"
    if step.kind == "exchange.listed":
        return f"{heading}：{right_text(listing)}，底价 {priced(listing, listing.reserve_fen)}"
    if step.kind == "exchange.awarded" and step.bidder is not None and step.amount_fen is not None:
        return f"{heading}：{bidder_label(step.bidder)} 以 {priced(listing, step.amount_fen)} 成交"
    if step.kind == "exchange.defaulted" and step.bidder is not None:
        return f"{heading}：{bidder_label(step.bidder)} 违约，保证金不予退还"
    return f"{heading}：{right_text(listing)}"


def summary_text(step: ListingStep, listing: Listing) -> str:
    where = f"{listing.collective_id}（{listing.township_id}），{listing.exchange_id}"
    if step.kind != "exchange.listed":
        return f"{right_text(listing)}，{where}；记录 {step.seq}"
    term = f"，期限 {listing.term_start} 至 {listing.term_end}" if listing.term_start else ""
    return (
        f"{right_text(listing)}{term}，{where}；底价 {priced(listing, listing.reserve_fen)}，"
        f"加价幅度 {yuan(listing.increment_fen)}，保证金 {yuan(listing.deposit_fen)}；"
        f"公告期至 {listing.announce_ends}；记录 {step.seq}"
    )


async def feed_items(session: AsyncSession, limit: int) -> list[tuple[ListingStep, Listing]]:
    """The newest ``limit`` announcement and outcome steps, each with its listing."""
    steps = list(
        (
            await session.exec(
                select(ListingStep)
                .where(col(ListingStep.kind).in_(tuple(HEADINGS)))
                .order_by(col(ListingStep.seq).desc())
                .limit(limit)
            )
        ).all()
    )
    ids = sorted({s.listing_id for s in steps})
    listings = {x.id: x for x in (await session.exec(select(Listing).where(col(Listing.id).in_(ids)))).all()}
    return [(s, listings[s.listing_id]) for s in steps]


def entry_id(origin: str, listing_id: str, seq: int) -> str:
    return f"urn:rural-ledger:{quote(origin, safe='/')}:exchange:{quote(listing_id, safe='')}:{seq}"


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element


def atom_feed(origin: str, base_url: str, items: list[tuple[ListingStep, Listing]], now: datetime) -> str:
    """The feed's XML; ``base_url`` is the service's absolute URL (no trailing slash), and the
    feed's ``updated`` the newest entry's time (``now`` when there is none)."""
    feed = ET.Element("feed", {"xmlns": ATOM, "xml:lang": "zh-CN"})
    _text(feed, "id", f"urn:rural-ledger:{quote(origin, safe='/')}:exchange:feed")
    _text(feed, "title", f"农村产权交易公告（{origin}）")
    _text(feed, "updated", items[0][0].at if items else format_time(now))
    author = ET.SubElement(feed, "author")
    _text(author, "name", origin)
    ET.SubElement(
        feed, "link", {"rel": "self", "type": ATOM_MEDIA_TYPE, "href": f"{base_url}/v1/exchange/feed.atom"}
    )
    ET.SubElement(
        feed,
        "link",
        {"rel": "alternate", "type": "application/json", "href": f"{base_url}/v1/exchange/listings"},
    )
    for step, listing in items:
        entry = ET.SubElement(feed, "entry")
        _text(entry, "id", entry_id(origin, listing.id, step.seq))
        _text(entry, "title", title(step, listing))
        _text(entry, "updated", step.at)
        _text(entry, "published", step.at)
        href = f"{base_url}/v1/exchange/listings/{quote(listing.id, safe='')}"
        ET.SubElement(entry, "link", {"rel": "alternate", "type": "application/json", "href": href})
        ET.SubElement(entry, "category", {"term": step.kind, "label": HEADINGS[step.kind]})
        _text(entry, "summary", summary_text(step, listing))
    return ET.tostring(feed, encoding="unicode", xml_declaration=True)
