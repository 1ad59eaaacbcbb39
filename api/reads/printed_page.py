"""What every page people read and print shares: times in Beijing time, areas in m² and 亩, the
Chinese labels of the ledger's codes, the style (one A4 sheet when printed) and the closing
section that says how to check the page against the ledger.

The wire keeps RFC 3339 UTC times with ``Z``; a page shows the same instant in Beijing time
(UTC+8, China has no daylight saving), written ``2026-03-01 16:00 北京时间``. A page never shows a
person's name: persons appear by party id, as on the public routes.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from html import escape

import segno

from api.reads.evidence import Snapshot
from api.reads.print_fit import print_size
from ledger.entry import parse_time

BEIJING = timezone(timedelta(hours=8))
SQUARE_METRES_PER_MU = 666.67

STATUSES = {
    "in_notice": "公示中",
    "suspended": "异议暂停",
    "active": "集体成员",
    "settled_in_town": "进城落户，权益保留",
    "ended": "成员资格终止",
    "rejected": "未获通过",
}
RELATIONS = {
    "head": "户主",
    "spouse": "配偶",
    "child": "子女",
    "parent": "父母",
    "grandchild": "孙子女",
    "grandparent": "祖父母",
    "sibling": "兄弟姐妹",
    "other": "其他",
}
LAND_CLASSES = {"arable": "耕地", "garden": "园地", "forest": "林地", "grassland": "草地", "other": "其他"}
ZONES = {
    "suburb": "城郊及镇驻地",
    "plain": "平原村",
    "plain_saline": "平原村（盐碱荒滩）",
    "hilly_flat": "丘陵村（平地）",
    "hilly_slope": "丘陵村（坡地）",
}
TRANSFER_MODES = {"lease": "出租", "subcontract": "转包", "shares": "入股"}
CERTIFICATE_TITLES = {
    "membership": "集体成员资格证明",
    "transfer_filing": "转移备案证书",
    "shares": "股权证书",
}
SCOPES = {"household": "整户", "individual": "个人"}
MANAGEMENT = {"static": "静态管理（增人不增股、减人不减股）", "dynamic": "动态管理"}


def beijing_time(value: str | datetime) -> str:
    """An instant (an RFC 3339 UTC time as the wire carries it, or an aware datetime) in
    Beijing time to the minute: ``2026-03-01T08:00:00Z`` is ``2026-03-01 16:00 北京时间``."""
    at = parse_time(value) if isinstance(value, str) else value
    return f"{at.astimezone(BEIJING):%Y-%m-%d %H:%M} 北京时间"


def mu(area_m2: int) -> str:
    """An area in 亩 for display (1 亩 = 666.67 m²); the ledger keeps integer m²."""
    return f"{area_m2 / SQUARE_METRES_PER_MU:,.2f}"


def label(labels: dict[str, str], code: str) -> str:
    """A code's Chinese label, or the code itself (escaped) when it has none."""
    return labels.get(code) or escape(code)


def mono(text: str) -> str:
    return f"<span class=mono>{escape(text)}</span>"


def facts(pairs: list[tuple[str, str]], *, across: int = 2) -> str:
    """Label-value pairs, ``across`` to a row (values are HTML, already escaped)."""
    cells = [f"<th>{k}</th><td>{v}</td>" for k, v in pairs]
    cells += ["<th></th><td></td>"] * (-len(cells) % across)
    rows = "".join(f"<tr>{''.join(cells[i : i + across])}</tr>" for i in range(0, len(cells), across))
    return f"<table class=facts>{rows}</table>"


def grouped_grid(headers: list[str], groups: list[tuple[str, list[str]]], total: str, *, across: int) -> str:
    """A grid whose rows come in groups (a land contract's parcels), each group under a row
    spanning the table (``groups``: its HTML and its items, each item the ``<td>`` cells of one
    row), laid ``across`` items to a table row so that many parcels take few lines; then the
    ``total`` row's cells."""
    width = len(headers) * across
    blank = "<td></td>" * len(headers)
    rows = ["<tr>" + "".join(f"<th>{h}</th>" for h in headers) * across + "</tr>"]
    for lead, items in groups:
        rows.append(f"<tr class=group><td colspan={width}>{lead}</td></tr>")
        for i in range(0, len(items), across):
            cells = items[i : i + across]
            rows.append("<tr>" + "".join(cells) + blank * (across - len(cells)) + "</tr>")
    rows.append(f"<tr class=total>{total}</tr>")
    return f"<table class=grid>{''.join(rows)}</table>"


def across_for(items: int) -> int:
    """Parcels two to a row when there are many of them."""
    return 2 if items > 8 else 1


def verify_path(seq: int) -> str:
    """Where a record's verification page is (served by ``api.console.public_routes``); the
    printed certificates' QR codes point here."""
    return f"/verify/{seq}"


def verification_qr(url: str) -> str:
    """A QR code of ``url`` (the record's verification page, ``/verify/{seq}``) as inline SVG,
    with the link under it: a phone that scans it opens the page that checks the record."""
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", xmldecl=False, scale=1, border=2, svgclass=None, omitsize=True
    )
    svg = out.getvalue().decode().replace("<svg ", "<svg role=img aria-label='验证二维码' ", 1)
    return f"<div class=qr>{svg}<p>扫码验证<br>{mono(url)}</p></div>"


def checkpoint_section(snapshot: Snapshot, lead: str, how: str, verify_url: str | None = None) -> str:
    """The closing section: what the page's claims were checked against (the signed
    checkpoint, quoted in full) and how a reader checks them (``how``, HTML); with
    ``verify_url``, a QR code of the record's verification page beside them."""
    evidence = (
        lead
        + facts([("检查点", f"树大小 {snapshot.size:,}，根哈希 {mono(snapshot.root_hash.hex())}")], across=1)
        + f"<pre>{escape(snapshot.note)}</pre><p class=verify>{how}</p>"
    )
    if verify_url:
        evidence = f"<div class=with-qr><div>{evidence}</div>{verification_qr(verify_url)}</div>"
    return f"<section class=evidence><h2>账本凭证</h2>{evidence}</section>"


# Printed, a page is one A4 sheet: its type size is chosen for its length (``api.reads.print_fit``)
# and the layout is in em, so that everything scales with it.
STYLE = """
html { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Serif SC", "SimSun", serif;
       color: #111; line-height: 1.45; }
body { margin: 2em auto; max-width: 52em; padding: 0 1em; }
.sheet { border: 3px double #8b0000; padding: 1.5em 2em; }
.issuer { text-align: center; margin: 0; color: #444; }
h1 { text-align: center; letter-spacing: .35em; color: #8b0000; margin: .1em 0 .6em; font-size: 1.9em; }
h2 { font-size: 1.08em; border-bottom: 1px solid #999; margin: 1.1em 0 .35em; }
h3 { font-size: 1em; margin: .6em 0 .2em; }
p { margin: .3em 0; }
table { border-collapse: collapse; width: 100%; }
.facts th { text-align: left; width: 7.5em; font-weight: normal; color: #444; vertical-align: top;
            padding: .05em .4em .05em 0; }
.facts td { padding: .05em .8em .05em 0; vertical-align: top; }
.grid th, .grid td { border: 1px solid #888; padding: .12em .35em; font-size: .92em;
                     vertical-align: baseline; }
.grid td { white-space: nowrap; } .grid td.mono { font-size: .78em; }
.grid td.wrap, .grid .group td { white-space: normal; }
.sheet { overflow-x: auto; }
.grid th { background: #f3eee6; font-weight: normal; }
.num, .code { text-align: right; white-space: nowrap; } .code { text-align: left; }
.group td { background: #faf7f2; } .total td, .me td { font-weight: bold; }
.mono { font-family: "DejaVu Sans Mono", "Noto Sans Mono CJK SC", monospace; font-size: .85em;
        word-break: break-all; }
pre { font-family: "DejaVu Sans Mono", monospace; font-size: .72em; background: #f6f6f6;
      padding: .4em; margin: .3em 0; white-space: pre-wrap; word-break: break-all; }
.verify, .note { font-size: .85em; color: #333; }
.links { font-size: .9em; margin-top: 1em; }
.with-qr { display: flex; gap: .8em; align-items: flex-start; }
.with-qr > div:first-child { flex: 1; min-width: 0; }
.qr { flex: none; width: 22mm; text-align: center; }
.qr svg { width: 22mm; height: 22mm; display: block; shape-rendering: crispEdges; }
.qr p { font-size: .6em; margin: 0; line-height: 1.2; } .qr .mono { font-size: 1em; }
@page { size: A4; margin: 10mm 12mm; }
@media print {
  html { font-size: var(--print-size, 10pt); line-height: 1.3; }
  body { margin: 0; max-width: none; padding: 0; }
  .sheet { border-width: 2px; padding: .8em 1.2em; }
  h1 { margin-bottom: .4em; }
  h2 { margin: .8em 0 .25em; }
  .grid th, .grid td { padding: .03em .3em; }
  a { color: inherit; text-decoration: none; }
  .links { display: none; }
  h2, h3 { break-after: avoid; }
}
"""


def document(title: str, body: str) -> str:
    """A whole page: ``title`` (plain text) and ``body`` (HTML) on one sheet."""
    return (
        "<!DOCTYPE html><html lang=zh-CN><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}"
        f"@media print {{ html {{ --print-size: {print_size(body)}; }} }}</style></head>"
        f"<body><main class=sheet>{body}</main></body></html>"
    )
