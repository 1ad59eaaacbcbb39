"""A certificate as a printable page: 集体成员资格证明, 转移备案证书 or 股权证书 (the share certificate
of a 股份经济合作社, one per household, listing the units each holder holds).

Persons appear by party id only (the page is public); the rights are listed as they stood when
the certificate was recorded, with areas in m² and 亩; the page ends with what a reader needs
to check it against the ledger: the record's seq and leaf hash, the checkpoint's size and root,
and how to verify. Printed, it is one A4 sheet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from html import escape

from sqlalchemy.ext.asyncio import AsyncConnection

from api.reads.evidence import Proven, Snapshot
from api.reads.history import rows_as_of
from api.reads.printed_page import (
    CERTIFICATE_TITLES,
    LAND_CLASSES,
    MANAGEMENT,
    SCOPES,
    STATUSES,
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
    verify_path,
)
from contracts.certificates import Certificate
from contracts.homesteads import Homestead
from contracts.land import LandContract, Parcel
from contracts.orgs import Org
from contracts.shares import ShareHolding, ShareScheme

RIGHTS_HEADINGS = {"membership": "享有的权利", "transfer_filing": "保留的权利"}


@dataclass(frozen=True)
class ShareDetails:
    """A share certificate's holdings as the ledger held them at its record: the scheme in
    force and each holder's row (pledged units, income rights only)."""

    scheme: ShareScheme | None
    holdings: dict[str, ShareHolding]


@dataclass(frozen=True)
class CertificateView:
    """A certificate and what it refers to, as of the record that issued it."""

    certificate: Certificate
    issuer: Org | None
    collective: Org | None
    statuses: dict[str, str]  # party id -> membership status after the issuing record
    contracts: list[tuple[LandContract, list[Parcel]]]
    homesteads: list[Homestead]
    proven: Proven
    recorded_at: str
    snapshot: Snapshot
    shares: ShareDetails | None = None


async def with_share_details(conn: AsyncConnection, view: CertificateView) -> CertificateView:
    """``view`` with its share details when it is a share certificate."""
    c = view.certificate
    if c.kind != "shares":
        return view
    seq = c.issued_seq
    schemes = await rows_as_of(conn, ShareScheme, seq, where={"collective_id": c.collective_id})
    holdings = await rows_as_of(conn, ShareHolding, seq, where={"collective_id": c.collective_id})
    held = {v.row.holder: v.row for v in holdings if v.row.holder in c.rights.get("shares", {})}
    return replace(view, shares=ShareDetails(schemes[0].row if schemes else None, held))


def _org(org: Org | None, org_id: str) -> str:
    if org is None or org.name == org_id:
        return escape(org_id)
    return f"{escape(org.name)}（{mono(org_id)}）"


def _persons(view: CertificateView) -> str:
    rows = "".join(
        f"<tr><td class=mono>{escape(p)}</td><td>{label(STATUSES, view.statuses.get(p, ''))}</td></tr>"
        for p in view.certificate.persons
    )
    html = (
        "<h2>人员（以当事人编号表示）</h2><table class=grid><tr><th>当事人编号</th>"
        f"<th>成员状态</th></tr>{rows}</table>"
    )
    return html


def _percent(units: int, total: int) -> str:
    return f"{units * 100 / total:.2f}%" if total else "—"


def _holders(view: CertificateView, details: ShareDetails) -> str:
    listed: dict[str, int] = view.certificate.rights.get("shares", {})
    total = details.scheme.total_units if details.scheme else 0
    rows = []
    for holder, units in sorted(listed.items()):
        h = details.holdings.get(holder)
        notes = "仅享有收益权" if h is not None and h.income_only else ""
        status = label(STATUSES, view.statuses.get(holder, ""))
        rows.append(
            f"<tr><td class=mono>{escape(holder)}</td><td>{status}</td>"
            f"<td class=num>{units:,}</td><td class=num>{h.pledged_units if h else 0:,}</td>"
            f"<td class=num>{_percent(units, total)}</td><td>{notes}</td></tr>"
        )
    held = sum(listed.values())
    html = (
        "<h2>持股明细（以当事人编号表示）</h2><table class=grid><tr><th>持股人（当事人编号）</th>"
        "<th>成员状态</th><th>持有股数（股）</th><th>其中质押（股）</th><th>占总股本</th><th>备注</th></tr>"
        + "".join(rows)
        + f"<tr class=total><td colspan=2>本户合计</td><td class=num>{held:,}</td><td></td>"
        f"<td class=num>{_percent(held, total)}</td><td></td></tr></table>"
    )
    return html


def _scheme_facts(details: ShareDetails) -> list[tuple[str, str]]:
    s = details.scheme
    if s is None:
        return []
    return [
        ("折股量化方案", f"{mono(s.id)}（基准日 {s.scheme_date.isoformat()}）"),
        ("总股本", f"{s.total_units:,} 股（其中集体股 {s.collective_units:,} 股）"),
        ("股权管理方式", label(MANAGEMENT, s.management)),
    ]


def _land(view: CertificateView) -> str:
    if not view.contracts:
        return "<p>土地承包经营权：无</p>"
    groups = []
    for contract, parcels in view.contracts:
        area = sum(p.area_m2 for p in parcels)
        lead = (
            f"承包合同 {mono(contract.id)} · 证书号 {escape(contract.certificate_no)} · "
            f"{contract.term_start} 至 {contract.term_end} · {len(parcels)} 块 {area:,} ㎡（{mu(area)} 亩）"
        )
        items = [
            f"<td class='mono code'>{escape(p.code)}</td><td>{label(LAND_CLASSES, p.land_class)}</td>"
            f"<td class=num>{p.area_m2:,}</td><td class=num>{mu(p.area_m2)}</td>"
            for p in parcels
        ]
        groups.append((lead, items))
    count = sum(len(parcels) for _, parcels in view.contracts)
    total = sum(p.area_m2 for _, parcels in view.contracts for p in parcels)
    across = across_for(count)
    table = grouped_grid(
        ["地块编码", "地类", "面积（㎡）", "面积（亩）"],
        groups,
        f"<td colspan={4 * across}>合计 {count} 块 {total:,} ㎡（{mu(total)} 亩）</td>",
        across=across,
    )
    return "<h3>土地承包经营权</h3>" + table


def _homesteads(view: CertificateView) -> str:
    if not view.homesteads:
        return "<p>宅基地使用权：无</p>"
    rows = "".join(
        f"<tr><td class=wrap>{mono(h.id)}<br>证书号 {escape(h.certificate_no)}</td>"
        f"<td class=mono>{escape(h.plot_code)}</td><td>{label(ZONES, h.zone)}</td>"
        f"<td class=num>{h.area_m2:,}</td><td class=num>{mu(h.area_m2)}</td></tr>"
        for h in view.homesteads
    )
    html = (
        "<h3>宅基地使用权</h3><table class=grid><tr><th>宅基地</th><th>宗地代码</th>"
        f"<th>区位</th><th>面积（㎡）</th><th>面积（亩）</th></tr>{rows}</table>"
    )
    return html


def statement_path(view: CertificateView) -> str:
    """The household's retained-rights statement as of the certificate's record."""
    c = view.certificate
    return f"/v1/households/{c.household_id}/rights/print?as_of={c.issued_seq}"


def _proof(view: CertificateView, verify_url: str | None) -> str:
    seq, size = view.proven.record.seq, view.snapshot.size
    lead = facts([("记录", f"序号 {seq}，叶哈希 {mono(view.proven.record.leaf_hash.hex())}")], across=1)
    how = (
        "验证方法：用运营方公钥核验上列检查点签名（C2SP 签名注记格式）；"
        f"取得包含证明 {mono(f'GET /v1/proofs/inclusion?seq={seq}&size={size}')}，"
        f"取得记录 {mono(f'GET /v1/entries/{seq}')} 并按 RFC 9162 计算叶哈希"
        "（SHA-256(0x00 ‖ 记录的 JCS 字节)），由叶哈希和包含证明重算根哈希，"
        "与检查点根哈希一致即证明本证书已记入账本、未被篡改。"
        f"本证书的 JSON 版本（含包含证明）：{mono(f'GET /v1/certificates/{view.certificate.id}')}。"
    )
    return checkpoint_section(view.snapshot, lead, how, verify_url)


def render(view: CertificateView, base_url: str | None = None) -> str:
    """The printed certificate; with the service's ``base_url``, a QR code of its record's
    verification page (``/verify/{seq}``)."""
    c = view.certificate
    title = CERTIFICATE_TITLES.get(c.kind, c.kind)
    pairs = [
        ("证书编号", mono(c.id)),
        ("出具单位", _org(view.issuer, c.issuer_id)),
        ("集体经济组织", _org(view.collective, c.collective_id)),
        ("户编号", mono(c.household_id)),
        ("范围", label(SCOPES, c.scope)),
    ]
    if c.membership_certificate:
        pairs.append(("依据的成员资格证明", mono(c.membership_certificate)))
    if c.valid_until:
        pairs.append(("有效期至", c.valid_until.isoformat()))
    pairs.append(("记账时间", beijing_time(view.recorded_at)))
    sections: list[str]
    if view.shares is not None:
        pairs += _scheme_facts(view.shares)
        sections = [_holders(view, view.shares)]
    else:
        sections = [
            _persons(view),
            f"<h2>{RIGHTS_HEADINGS.get(c.kind, '权利')}（记账时）</h2>",
            _land(view),
            _homesteads(view),
        ]
    verify_url = base_url.rstrip("/") + verify_path(c.issued_seq) if base_url else None
    sections.append(_proof(view, verify_url))
    links = (
        f"<p class=links><a href='{escape(statement_path(view))}'>本户权益清单（截至本证书记账）</a>"
        f" · <a href='/v1/certificates/{escape(c.id)}'>JSON</a></p>"
    )
    issuer = view.collective.name if view.collective and c.kind == "shares" else None
    body = (
        (f"<p class=issuer>{escape(issuer)}</p>" if issuer else "")
        + f"<h1>{escape(title)}</h1>"
        + facts(pairs)
        + "".join(sections)
        + links
    )
    named = "股份经济合作社股权证书" if c.kind == "shares" else title
    return document(f"{named} {c.id}", body)
