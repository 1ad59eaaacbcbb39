"""The printed transaction certificate (交易鉴证书) of a certified listing of the user's exchange
centre, ``/console/exchange/listings/{listing}/certificate``: the certificate as
``api.reads.exchange_certificate`` reads it (the deal, the parties as the ledger holds them, the
seqs of every step, the certificate's record with its inclusion proof in the latest signed
checkpoint), laid out by the printed pages' own machinery (``api.reads.printed_page``: one A4
sheet, Beijing time, areas in m² and 亩) with the QR code of the record's verification page
(``/verify/{seq}``). Persons appear by party id only; an entity by its registered name.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request, Response, get

from api.console.auth_routes import CONSOLE, PRIVATE
from api.console.exchange_desk import ROLE, own_listing
from api.console.guard import ConsoleRefusal, SignedIn
from api.http.dependencies import Db, Session
from api.http.routes.paging import Id
from api.reads.evidence import Snapshot
from api.reads.exchange_board import area_mu, bidder_label
from api.reads.exchange_certificate import exchange_certificate
from api.reads.printed_page import (
    TRANSFER_MODES,
    beijing_time,
    checkpoint_section,
    document,
    facts,
    label,
    mono,
    verify_path,
)
from ledger.errors import Category, Rejection

RIGHTS = {
    "land_management": "土地经营权",
    "shares": "集体收益分配权（股份）",
    "homestead": "宅基地使用权",
    "collective_asset": "集体经营性资产",
    "land_quota": "建设用地指标",
}
TRANSFERORS = {"household": "农户", "party": "个人", "collective": "村集体经济组织"}
METHODS = {"auction": "网络竞价（动态报价）", "sealed": "一次性报价（密封）"}
MODELS = {
    "in_auction_match": "竞价中跟价优先",
    "tie": "同等报价优先",
    "post_close_match": "竞价结束后跟价优先",
}
UNITS = {"per_mu_year": "元/亩·年", "total": "元（总价）"}
STEP_NAMES = (
    ("listing", "挂牌公告"),
    ("registrations", "竞买登记"),
    ("deposits", "保证金"),
    ("bids", "报价"),
    ("award", "成交"),
    ("contract", "签订合同"),
    ("payment", "价款结算"),
    ("refunds", "保证金退还"),
    ("certificate", "鉴证"),
    ("others", "其他"),
)


def money(fen: int | None) -> str:
    if fen is None:
        return "—"
    return f"{fen // 100:,}.{fen % 100:02d} 元"


def region(org: dict[str, Any]) -> str:
    return f"{escape(str(org.get('name') or org['id']))} {mono(str(org['id']))}"


def right_text(c: dict[str, Any]) -> str:
    r = c["right"]
    terms = r["terms"]
    text = escape(RIGHTS.get(r["type"], r["type"]))
    if r["type"] == "land_management":
        text += (
            f"（{escape(label(TRANSFER_MODES, terms['mode']))}）：承包合同 {mono(terms['contract'])}，"
            f"{len(terms['parcels'])} 块 {r['quantity']:,} ㎡（{area_mu(r['quantity'])} 亩）"
        )
    elif r["type"] == "shares":
        text += f"：{r['quantity']:,} 股"
    elif r["type"] in ("homestead", "land_quota"):
        text += f"：{r['quantity']:,} ㎡（{area_mu(r['quantity'])} 亩）"
    return text


def transferee_text(t: dict[str, Any]) -> str:
    who = (
        f"{escape(t['name'])} 统一社会信用代码 {mono(t['id'])}"
        if t["kind"] == "entity"
        else f"{mono(t['id'])}"
    )
    extra = "，优先权人" if t["priority"] else ""
    return f"{who}（{escape(bidder_label(t['bidder']))}{extra}）"


def steps_text(steps: dict[str, Any]) -> str:
    rows = []
    for key, name in STEP_NAMES:
        seqs = steps.get(key)
        if seqs is None or seqs == []:
            continue
        listed = seqs if isinstance(seqs, list) else [seqs]
        rows.append(f"<tr><th>{name}</th><td>{'、'.join(str(s) for s in listed)}</td></tr>")
    return "<h2>办理记录（账本序号）</h2><table class=grid>" + "".join(rows) + "</table>"


def method_text(c: dict[str, Any]) -> str:
    """How the deal was made: the method (its code escaped when it has no name here) and the
    priority model."""
    return f"{escape(METHODS.get(c['method'], c['method']))}，{MODELS.get(c['priority_model'], '')}"


def render(c: dict[str, Any], base_url: str) -> str:
    """The printed certificate; a QR code of its record's verification page."""
    seq = c["steps"]["certificate"]
    r = c["right"]
    pairs = [
        ("证书编号", mono(c["certificate_no"])),
        ("挂牌编号", mono(c["listing"])),
        ("交易中心", region(c["exchange"])),
        ("乡镇", region(c["township"])),
        ("村集体", region(c["village"])),
        ("交易方式", method_text(c)),
        ("成交日期", escape(str(c["awarded_on"]))),
        ("鉴证时间", beijing_time(c["certified_at"])),
    ]
    deal = [
        ("交易标的", right_text(c)),
        ("期限", escape(f"{r['term_start']} 至 {r['term_end']}") if r["term_start"] else "—"),
        ("转出方", f"{TRANSFERORS.get(c['transferor']['kind'], '')} {mono(c['transferor']['id'])}"),
        ("受让方", transferee_text(c["transferee"])),
        ("成交价", f"{c['price_fen'] // 100:,}.{c['price_fen'] % 100:02d} {UNITS.get(c['price_unit'], '')}"),
        ("成交总价", money(c["value_fen"])),
        ("买方服务费", money(c["buyer_fee_fen"])),
        ("卖方服务费", money(c["seller_fee_fen"])),
    ]
    checkpoint = c["checkpoint"]
    snap = Snapshot(checkpoint["size"], bytes.fromhex(checkpoint["root_hash"]), checkpoint["note"])
    record = c["record"]
    lead = facts([("记录", f"序号 {seq}，叶哈希 {mono(record['leaf_hash'])}")], across=1)
    how = (
        "验证方法：扫描二维码打开验证页，页面在浏览器中用运营方公钥核验检查点签名，"
        "并由叶哈希和包含证明重算根哈希；一致即证明本证书已记入账本、未被篡改。"
        f"本证书的 JSON 版本（含包含证明）：{mono('GET /v1/exchange/certificates/' + c['listing'])}。"
    )
    verify_url = base_url.rstrip("/") + verify_path(seq)
    body = (
        f"<p class=issuer>{escape(str(c['exchange'].get('name') or ''))}</p><h1>交易鉴证书</h1>"
        + facts(pairs)
        + "<h2>交易内容</h2>"
        + facts(deal, across=1)
        + "<p class=note>本证书记账时，上列权利即登记在受让方名下（所有权、承包权不变）。</p>"
        + steps_text(c["steps"])
        + checkpoint_section(snap, lead, how, verify_url)
        + f"<p class=links><a href='/v1/exchange/certificates/{escape(c['listing'])}'>JSON</a></p>"
    )
    return document(f"交易鉴证书 {c['certificate_no']}", body)


@get("/console/exchange/listings/{listing:str}/certificate", opt=ROLE, **CONSOLE)
async def printed_certificate(
    request: Request[Any, Any, Any], console: SignedIn, db: Db, session: Session, listing: Id
) -> Response[str]:
    """The printed transaction certificate, once the certificate is recorded and in a
    checkpoint."""
    await own_listing(session, console, listing)
    try:
        found = await exchange_certificate(db, session, listing)
    except Rejection as e:
        raise ConsoleRefusal("console.not_found", e.message, Category.NOT_FOUND) from e
    return Response(render(found, str(request.base_url)), media_type="text/html", headers=PRIVATE)


ROUTES: list[Any] = [printed_certificate]
