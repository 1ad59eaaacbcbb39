"""A retained-rights statement as a printable page (农村集体经济权益清单): a person's or a
household's membership, contracted land with its parcels (m² and 亩) and management transfers,
homestead, shares and certificates as of a seq, each with the seq of the record that
established it, and how to check them against the ledger. Made from the same ``Statement`` as
the JSON statement, whose inclusion proofs it points to; printed, it is one A4 sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from sqlalchemy.ext.asyncio import AsyncConnection

from api.reads.evidence import prove, record_json
from api.reads.history import rows_as_of
from api.reads.printed_page import (
    CERTIFICATE_TITLES,
    LAND_CLASSES,
    RELATIONS,
    STATUSES,
    TRANSFER_MODES,
    ZONES,
    across_for,
    beijing_time,
    checkpoint_section,
    document,
    facts,
    grouped_grid,
    label,
    mono,
    mu,
)
from api.reads.statements import Statement, household_facts, party_facts
from contracts.orgs import Org

TITLE = "农村集体经济权益清单"
HOUSEHOLD_STATUSES = {"active": "正常", "dissolved": "已注销"}
SETTLED_NOTE = (
    "依据威办发〔2017〕35号，进城落户人员凭集体成员资格证明和转移备案证书，"
    "继续享有农村土地承包经营权、宅基地使用权及其他集体经济权益。"
)


@dataclass(frozen=True)
class StatementPage:
    """A statement, with what the page adds: the collectives' names and the time of the
    record it is made as of."""

    statement: Statement
    json_path: str  # the JSON statement's path, without the query
    orgs: dict[str, Org]
    as_of_time: str  # recorded_at of record ``as_of``, RFC 3339 UTC


async def household_page(conn: AsyncConnection, household_id: str, requested: int | None) -> str:
    statement = await household_facts(conn, household_id, requested)
    return render(await _page(conn, statement, f"/v1/households/{household_id}/rights"))


async def party_page(conn: AsyncConnection, party_id: str, requested: int | None) -> str:
    statement = await party_facts(conn, party_id, requested)
    return render(await _page(conn, statement, f"/v1/parties/{party_id}/rights"))


async def _page(conn: AsyncConnection, s: Statement, json_path: str) -> StatementPage:
    h = s.holdings
    ids = {
        *(v.row.collective_id for v in h.shares),
        *(v.row.collective_id for v in h.memberships),
        *([h.household.row.collective_id] if h.household else []),
        *(v.row.issuer_id for v in s.certificates),
        *([s.membership.row.collective_id] if s.membership else []),
    }
    orgs = {v.row.id: v.row for v in await rows_as_of(conn, Org, s.as_of, where={"id": sorted(ids)})}
    as_of = s.proven.get(s.as_of)
    if as_of is None:
        as_of = (await prove(conn, [s.as_of], s.snapshot))[s.as_of]
    return StatementPage(s, json_path, orgs, record_json(as_of.record)["recorded_at"])


def _org(page: StatementPage, org_id: str) -> str:
    org = page.orgs.get(org_id)
    if org is None or org.name == org_id:
        return mono(org_id)
    return f"{escape(org.name)}（{mono(org_id)}）"


def _as_of_link(page: StatementPage, path: str) -> str:
    return f"{path}?as_of={page.statement.as_of}"


def _subject(page: StatementPage) -> list[tuple[str, str]]:
    s, h = page.statement, page.statement.holdings
    as_of = f"记录序号 {s.as_of:,}（{beijing_time(page.as_of_time)}）"
    pairs: list[tuple[str, str]] = []
    if s.party is not None:
        m = s.membership
        pairs += [
            ("当事人编号", mono(s.party.row.id)),
            ("登记记录", f"序号 {s.party.seq}"),
            (
                "成员状态",
                "无成员资格记录" if m is None else f"{label(STATUSES, m.row.status)}（记录 {m.seq}）",
            ),
            ("集体经济组织", "—" if m is None else _org(page, m.row.collective_id)),
        ]
        if s.member is not None and h.household is not None:
            pairs += [
                ("所在户", mono(h.household.row.id)),
                ("与户主关系", f"{label(RELATIONS, s.member.row.relation)}（记录 {s.member.seq}）"),
            ]
    elif h.household is not None:
        hh = h.household
        pairs += [
            ("户编号", mono(hh.row.id)),
            ("户主", mono(hh.row.head_party)),
            ("集体经济组织", _org(page, hh.row.collective_id)),
            ("户状态", f"{label(HOUSEHOLD_STATUSES, hh.row.status)}（登记记录 {hh.row.registered_seq}）"),
        ]
    pairs.append(("截至", as_of))
    return pairs


def _percent(units: int, total: int) -> str:
    return f"{units * 100 / total:.2f}%" if total else "—"


def _members(page: StatementPage) -> str:
    """The household's members, each with their membership status and shares held."""
    s, h = page.statement, page.statement.holdings
    if not h.members:
        return ""
    status = {v.row.party_id: v for v in h.memberships}
    household = h.household.row.id if h.household else None
    shares = {v.row.holder: v for v in h.shares if v.row.household_id == household}
    totals = {v.row.collective_id: v.row.total_units for v in h.schemes}
    rows = []
    for m in h.members:
        ms, held = status.get(m.row.party_id), shares.get(m.row.party_id)
        me = " class=me" if s.party is not None and m.row.party_id == s.party.row.id else ""
        link = _as_of_link(page, f"/v1/parties/{m.row.party_id}/rights/print")
        units = (
            "<td class=num>—</td><td class=num></td><td class=num></td><td class=num></td>"
            if held is None
            else f"<td class=num>{held.row.units:,}</td><td class=num>{held.row.pledged_units:,}</td>"
            f"<td class=num>{_percent(held.row.units, totals.get(held.row.collective_id, 0))}</td>"
            f"<td class=num>{held.seq}</td>"
        )
        rows.append(
            f"<tr{me}><td><a class=mono href='{escape(link)}'>{escape(m.row.party_id)}</a></td>"
            f"<td>{label(RELATIONS, m.row.relation)}</td><td class=num>{m.seq}</td>"
            f"<td>{'—' if ms is None else label(STATUSES, ms.row.status)}</td>"
            f"<td class=num>{'' if ms is None else ms.seq}</td>{units}</tr>"
        )
    html = (
        "<h2>户内人员及持股（以当事人编号表示）</h2><table class=grid><tr><th>当事人编号</th>"
        "<th>与户主关系</th><th>入户记录</th><th>成员状态</th><th>状态记录</th><th>持有股数</th><th>其中质押</th>"
        "<th>占总股本</th><th>股份记录</th></tr>" + "".join(rows) + "</table>"
    )
    return html


def _land(page: StatementPage) -> str:
    h = page.statement.holdings
    if not h.contracts:
        return "<h3>土地承包经营权</h3><p>无</p>"
    leased = {code: t for t in h.transfers for code in t.row.parcels}
    groups = []
    for contract in h.contracts:
        c = contract.row
        parcels = [p for p in h.parcels if p.row.contract_id == c.id]
        area = sum(p.row.area_m2 for p in parcels)
        lead = (
            f"承包合同 {mono(c.id)} · 证书号 {escape(c.certificate_no)} · {c.term_start} 至 "
            f"{c.term_end} · {len(parcels)} 块 {area:,} ㎡（{mu(area)} 亩） · 记录 {contract.seq}"
        )
        items = []
        for p in parcels:
            t = leased.get(p.row.code)
            items.append(
                f"<td class='mono code'>{escape(p.row.code)}</td>"
                f"<td>{label(LAND_CLASSES, p.row.land_class)}</td>"
                f"<td class=num>{p.row.area_m2:,}</td><td class=num>{mu(p.row.area_m2)}</td>"
                f"<td>{'' if t is None else label(TRANSFER_MODES, t.row.mode)}</td>"
                f"<td class=num>{p.seq}</td>"
            )
        groups.append((lead, items))
    total = sum(p.row.area_m2 for p in h.parcels)
    across = across_for(len(h.parcels))
    table = grouped_grid(
        ["地块编码", "地类", "㎡", "亩", "流转", "记录"],
        groups,
        f"<td colspan={6 * across}>合计 {len(h.parcels)} 块 {total:,} ㎡（{mu(total)} 亩）</td>",
        across=across,
    )
    return "<h3>土地承包经营权</h3>" + table + _transfers(page)


def _transfers(page: StatementPage) -> str:
    h = page.statement.holdings
    if not h.transfers:
        return ""
    rows = "".join(
        f"<tr><td class=mono>{escape(t.row.id)}</td><td>{label(TRANSFER_MODES, t.row.mode)}</td>"
        f"<td class=wrap>{escape(t.row.transferee_name or t.row.transferee)}</td>"
        f"<td>{len(t.row.parcels)} 块</td><td>{t.row.term_start} 至 {t.row.term_end}</td>"
        f"<td class=num>{t.seq}</td></tr>"
        for t in h.transfers
    )
    html = (
        "<p class=note>经营权流转（所有权、承包权不变）：</p><table class=grid><tr><th>流转编号</th>"
        "<th>方式</th><th>受让方</th><th>地块</th><th>期限</th><th>记录序号</th></tr>" + rows + "</table>"
    )
    return html


def _homesteads(page: StatementPage) -> str:
    h = page.statement.holdings
    if not h.homesteads:
        return "<h3>宅基地使用权</h3><p>无</p>"
    rows = "".join(
        f"<tr><td>{mono(v.row.id)}</td><td class=wrap>{escape(v.row.certificate_no)}</td>"
        f"<td class=mono>{escape(v.row.plot_code)}</td><td>{label(ZONES, v.row.zone)}</td>"
        f"<td class=num>{v.row.area_m2:,}</td><td class=num>{mu(v.row.area_m2)}</td>"
        f"<td class=num>{v.seq}</td></tr>"
        for v in h.homesteads
    )
    html = (
        "<h3>宅基地使用权</h3><table class=grid><tr><th>宅基地</th><th>证书号</th><th>宗地代码</th>"
        f"<th>区位</th><th>面积（㎡）</th><th>面积（亩）</th><th>记录序号</th></tr>{rows}</table>"
    )
    return html


def _shares(page: StatementPage) -> str:
    """The shares' summary per collective; holdings outside the household's members listed
    (a person's own, recorded elsewhere: an heir's income rights, say)."""
    h = page.statement.holdings
    if not h.shares:
        return "<h3>集体收益分配权（股份）</h3><p>无</p>"
    household = h.household.row.id if h.household else None
    members = {m.row.party_id for m in h.members}
    others = [v for v in h.shares if v.row.holder not in members or v.row.household_id != household]
    totals = {v.row.collective_id: v.row.total_units for v in h.schemes}
    held = {c: sum(v.row.units for v in h.shares if v.row.collective_id == c) for c in totals}
    whose = "本户" if household else "本人"
    summary = "；".join(
        f"{_org(page, s.row.collective_id)}：{whose}持有 {held[s.row.collective_id]:,} 股，"
        f"占总股本 {s.row.total_units:,} 股的 {_percent(held[s.row.collective_id], s.row.total_units)}"
        f"（折股量化方案 {mono(s.row.id)}，基准日 {s.row.scheme_date}，记录 {s.seq}）"
        for s in h.schemes
    )
    rows = "".join(
        f"<tr><td class=wrap>{_org(page, v.row.collective_id)}</td><td class=mono>{escape(v.row.holder)}</td>"
        f"<td class=num>{v.row.units:,}</td><td class=num>{v.row.pledged_units:,}</td>"
        f"<td class=num>{_percent(v.row.units, totals.get(v.row.collective_id, 0))}</td>"
        f"<td>{'仅享有收益权' if v.row.income_only else ''}</td><td class=num>{v.seq}</td></tr>"
        for v in others
    )
    table = (
        "<table class=grid><tr><th>集体经济组织</th><th>持股人（当事人编号）</th><th>持有股数</th>"
        f"<th>其中质押</th><th>占总股本</th><th>备注</th><th>记录序号</th></tr>{rows}</table>"
        if others
        else ""
    )
    html = f"<h3>集体收益分配权（股份）</h3><p class=note>{summary}</p>{table}"
    return html


def _certificates(page: StatementPage) -> str:
    certificates = page.statement.certificates
    if not certificates:
        return ""
    rows = "".join(
        f"<tr><td><a class=mono href='/v1/certificates/{escape(v.row.id)}/print'>{escape(v.row.id)}</a></td>"
        f"<td>{label(CERTIFICATE_TITLES, v.row.kind)}</td><td class=wrap>{_org(page, v.row.issuer_id)}</td>"
        f"<td class=num>{v.row.issued_seq}</td></tr>"
        for v in certificates
    )
    html = (
        "<h2>相关证书</h2><table class=grid><tr><th>证书编号</th><th>种类</th><th>出具单位</th>"
        f"<th>记账记录序号</th></tr>{rows}</table>"
    )
    return html


def _evidence(page: StatementPage) -> str:
    s = page.statement
    size, json_path = s.snapshot.size, _as_of_link(page, page.json_path)
    lead = (
        f"<p class=verify>本清单由账本记录生成，截至记录序号 {s.as_of:,}；"
        "每项所列“记录序号”即确立该项的记录。</p>"
    )
    proof = f"GET /v1/proofs/inclusion?seq=N&size={size}"
    how = (
        "验证方法：用运营方公钥核验上列检查点签名（C2SP 签名注记格式）；对每个记录序号 N，"
        f"取得记录 {mono('GET /v1/entries/N')} 和包含证明 {mono(proof)}，"
        "按 RFC 9162 由叶哈希（SHA-256(0x00 ‖ 记录的 JCS 字节)）和包含证明重算根哈希，"
        "与检查点根哈希一致即证明该项已记入账本。"
        f"本清单的 JSON 版本（每项附叶哈希和包含证明）：{mono('GET ' + json_path)}。"
        f"核验整个账本：{mono('rural-ledger verify 服务地址 --operator-key operator.pub')}。"
    )
    return checkpoint_section(s.snapshot, lead, how)


def render(page: StatementPage) -> str:
    s = page.statement
    subject = _subject(page)
    settled = s.membership is not None and s.membership.row.status == "settled_in_town"
    settled = settled or any(v.row.status == "settled_in_town" for v in s.holdings.memberships)
    sections = [
        _members(page),
        f"<h2>{'保留的权利' if settled else '享有的权利'}</h2>",
        _land(page),
        _homesteads(page),
        _shares(page),
        _certificates(page),
        _evidence(page),
    ]
    links = (
        f"<p class=links><a href='{escape(_as_of_link(page, page.json_path))}'>JSON 版本（含包含证明）</a>"
        f" · <a href='{escape(page.json_path)}/print'>最新状态</a></p>"
    )
    body = (
        f"<h1>{TITLE}</h1>"
        + facts(subject)
        + (f"<p class=note>{SETTLED_NOTE}</p>" if settled else "")
        + "".join(sections)
        + links
    )
    who = (
        s.party.row.id if s.party is not None else s.holdings.household.row.id if s.holdings.household else ""
    )
    return document(f"{TITLE} {who}（截至记录 {s.as_of}）", body)
