"""A settlement certificate as a printable page: 集体成员资格证明 or 转移备案证书.

Persons appear by party id only (the page is public); the rights are listed as they stood when
the certificate was recorded, with areas in m² and 亩; the page ends with what a reader needs
to check it against the ledger: the record's seq and leaf hash, the checkpoint's size and root,
and how to verify.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from api.reads.evidence import Proven, Snapshot
from contracts.certificates import Certificate
from contracts.homesteads import Homestead
from contracts.land import LandContract, Parcel
from contracts.orgs import Org

SQUARE_METRES_PER_MU = 666.67

TITLES = {"membership": "集体成员资格证明", "transfer_filing": "转移备案证书"}
RIGHTS_HEADINGS = {"membership": "享有的权利", "transfer_filing": "保留的权利"}
SCOPES = {"household": "整户", "individual": "个人"}
STATUSES = {
    "in_notice": "公示中",
    "suspended": "异议暂停",
    "active": "集体成员",
    "settled_in_town": "进城落户，权益保留",
    "ended": "成员资格终止",
    "rejected": "未获通过",
}
LAND_CLASSES = {"arable": "耕地", "garden": "园地", "forest": "林地", "grassland": "草地", "other": "其他"}
ZONES = {
    "suburb": "城郊及镇驻地",
    "plain": "平原村",
    "plain_saline": "平原村（盐碱荒滩）",
    "hilly_flat": "丘陵村（平地）",
    "hilly_slope": "丘陵村（坡地）",
}


def mu(area_m2: int) -> str:
    """An area in 亩 for display (1 亩 = 666.67 m²); the ledger keeps integer m²."""
    return f"{area_m2 / SQUARE_METRES_PER_MU:.2f}"


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


def _org(org: Org | None, org_id: str) -> str:
    if org is None or org.name == org_id:
        return escape(org_id)
    return escape(f"{org.name}（{org_id}）")


def _row(label: str, value: str) -> str:
    return f"<tr><th>{label}</th><td>{value}</td></tr>"


def _persons(view: CertificateView) -> str:
    rows = "".join(
        f"<tr><td class=mono>{escape(p)}</td><td>{escape(STATUSES.get(s, s))}</td></tr>"
        for p, s in ((p, view.statuses.get(p, "")) for p in view.certificate.persons)
    )
    return (
        "<h2>人员（以当事人编号表示）</h2><table class=grid><tr><th>当事人编号</th>"
        f"<th>成员状态</th></tr>{rows}</table>"
    )


def _land(view: CertificateView) -> str:
    if not view.contracts:
        return "<p>土地承包经营权：无</p>"
    rows = []
    for contract, parcels in view.contracts:
        for i, parcel in enumerate(parcels):
            lead = (
                (
                    f"<td rowspan={len(parcels)}>{escape(contract.id)}<br>"
                    f"证书号 {escape(contract.certificate_no)}<br>{contract.term_start} 至 "
                    f"{contract.term_end}</td>"
                )
                if i == 0
                else ""
            )
            rows.append(
                f"<tr>{lead}<td class=mono>{escape(parcel.code)}</td>"
                f"<td>{escape(LAND_CLASSES.get(parcel.land_class, parcel.land_class))}</td>"
                f"<td class=num>{parcel.area_m2:,}</td><td class=num>{mu(parcel.area_m2)}</td></tr>"
            )
    total = sum(p.area_m2 for _, parcels in view.contracts for p in parcels)
    return (
        "<h3>土地承包经营权</h3><table class=grid><tr><th>承包合同</th><th>地块编码</th>"
        "<th>地类</th><th>面积（㎡）</th><th>面积（亩）</th></tr>"
        + "".join(rows)
        + f"<tr class=total><td colspan=3>合计</td><td class=num>{total:,}</td>"
        f"<td class=num>{mu(total)}</td></tr></table>"
    )


def _homesteads(view: CertificateView) -> str:
    if not view.homesteads:
        return "<p>宅基地使用权：无</p>"
    rows = "".join(
        f"<tr><td>{escape(h.id)}<br>证书号 {escape(h.certificate_no)}</td>"
        f"<td class=mono>{escape(h.plot_code)}</td><td>{escape(ZONES.get(h.zone, h.zone))}</td>"
        f"<td class=num>{h.area_m2:,}</td><td class=num>{mu(h.area_m2)}</td></tr>"
        for h in view.homesteads
    )
    return (
        "<h3>宅基地使用权</h3><table class=grid><tr><th>宅基地</th><th>宗地代码</th>"
        f"<th>区位</th><th>面积（㎡）</th><th>面积（亩）</th></tr>{rows}</table>"
    )


def _proof(view: CertificateView) -> str:
    seq, size = view.proven.record.seq, view.snapshot.size
    return (
        "<h2>账本凭证</h2><table class=facts>"
        + _row("记录序号", str(seq))
        + _row("叶哈希", f"<span class=mono>{view.proven.record.leaf_hash.hex()}</span>")
        + _row("检查点", f"树大小 {size}，根哈希 <span class=mono>{view.snapshot.root_hash.hex()}</span>")
        + "</table><pre>"
        + escape(view.snapshot.note)
        + "</pre>"
        + "<p class=verify>验证方法：用运营方公钥核验上列检查点签名（C2SP 签名注记格式）；"
        f"取得包含证明 <span class=mono>GET /v1/proofs/inclusion?seq={seq}&amp;size={size}</span>，"
        f"取得记录 <span class=mono>GET /v1/entries/{seq}</span> 并按 RFC 9162 计算叶哈希"
        "（SHA-256(0x00 ‖ 记录的 JCS 字节)），由叶哈希和包含证明重算根哈希，"
        "与检查点根哈希一致即证明本证书已记入账本、未被篡改。</p>"
    )


STYLE = """
body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif; margin: 2em auto;
       max-width: 46em; color: #111; line-height: 1.5; }
.sheet { border: 3px double #8b0000; padding: 1.5em 2em; }
h1 { text-align: center; letter-spacing: .4em; color: #8b0000; margin: .2em 0 1em; }
h2 { font-size: 1.1em; border-bottom: 1px solid #999; margin-top: 1.5em; }
h3 { font-size: 1em; margin-bottom: .3em; }
table { border-collapse: collapse; width: 100%; }
.facts th { text-align: left; width: 10em; font-weight: normal; color: #444; vertical-align: top; }
.grid th, .grid td { border: 1px solid #888; padding: .2em .4em; font-size: .92em; }
.grid th { background: #f3eee6; font-weight: normal; }
.num { text-align: right; } .total td { font-weight: bold; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: .85em; word-break: break-all; }
pre { font-size: .75em; background: #f6f6f6; padding: .5em; white-space: pre-wrap;
      word-break: break-all; }
.verify { font-size: .85em; color: #333; }
@media print { body { margin: 0; } .sheet { border-width: 2px; } }
"""


def render(view: CertificateView) -> str:
    c = view.certificate
    facts = [
        _row("证书编号", escape(c.id)),
        _row("出具单位", _org(view.issuer, c.issuer_id)),
        _row("集体经济组织", _org(view.collective, c.collective_id)),
        _row("户编号", f"<span class=mono>{escape(c.household_id)}</span>"),
        _row("范围", SCOPES.get(c.scope, escape(c.scope))),
    ]
    if c.membership_certificate:
        facts.append(_row("依据的成员资格证明", escape(c.membership_certificate)))
    if c.valid_until:
        facts.append(_row("有效期至", c.valid_until.isoformat()))
    facts.append(_row("记账时间", escape(view.recorded_at)))
    title = TITLES.get(c.kind, escape(c.kind))
    return (
        f"<!DOCTYPE html><html lang=zh-CN><head><meta charset=utf-8><title>{title} "
        f"{escape(c.id)}</title><style>{STYLE}</style></head><body><div class=sheet>"
        f"<h1>{title}</h1><table class=facts>{''.join(facts)}</table>"
        + _persons(view)
        + f"<h2>{RIGHTS_HEADINGS.get(c.kind, '权利')}（记账时）</h2>"
        + _land(view)
        + _homesteads(view)
        + _proof(view)
        + "</div></body></html>"
    )
