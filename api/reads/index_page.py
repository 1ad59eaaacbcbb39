"""The service's front page at ``/``: what this ledger is and where to look, in Simplified Chinese
with the English beside it. One small HTML document with its style inline: it loads nothing, so
it reads the same on a machine without internet.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from api.reads.evidence import Snapshot

# Every link the page gives, with what it is: (path, 中文, English).
LINKS = (
    (
        "/v1/checkpoint",
        "最新检查点（运营方签名的注记）",
        "the latest checkpoint, a note signed by the operator",
    ),
    ("/schema", "API 文档（可在浏览器中试用）", "the API documentation, to try in the browser"),
    (
        "/v1/kinds",
        "条目种类目录：每种条目的载荷格式、签署方与示例",
        "the entry kinds: payload schema, signers, example",
    ),
    ("/v1/entries", "全部记录，按序号分页", "every record, in pages by seq"),
    ("/v1/checkpoints", "全部检查点", "every checkpoint"),
    ("/v1/orgs", "已登记的组织及其公钥", "the registered organisations and their keys"),
    ("/v1/certificates", "证书列表", "the certificates"),
    ("/verify", "证书验证：在浏览器中核验证书或记录", "verify a certificate or a record, in the browser"),
    ("/board", "交易公告与成交公示（无个人信息）", "the exchange's announcements and results"),
    ("/checkpoint", "最新检查点及见证方联署", "the latest checkpoint and its witness cosignatures"),
    ("/healthz", "服务状态", "the service's health"),
)
# Public pages of one thing, by the path a reader fills in.
PAGE_TEMPLATES = (
    (
        "/v1/certificates/{id}/print",
        "证书打印页（集体成员资格证明、转移备案证书）",
        "a certificate, printable",
    ),
    (
        "/v1/parties/{id}/rights",
        "个人权益清单（JSON，附包含证明）",
        "a person's retained rights, with proofs",
    ),
    (
        "/v1/households/{id}/rights",
        "户权益清单（JSON，附包含证明）",
        "a household's retained rights, with proofs",
    ),
    ("/v1/entries/{seq}", "一条记录", "one record"),
)
PRINTED_STATEMENTS = (
    ("/v1/parties/{id}/rights/print", "个人权益清单打印页", "a person's retained rights, printable"),
    ("/v1/households/{id}/rights/print", "户权益清单打印页", "a household's retained rights, printable"),
)


@dataclass(frozen=True)
class Example:
    """A certificate recorded in this ledger, to link its pages as an example."""

    certificate_id: str
    household_id: str
    party_id: str | None


@dataclass(frozen=True)
class IndexView:
    origin: str
    operator_key: str
    snapshot: Snapshot
    base_url: str  # where this page was asked for, for the verify command
    example: Example | None
    printed_statements: bool = False  # whether this service has the statements' printable pages


STYLE = """
body { font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; margin: 2em auto; max-width: 52em;
       padding: 0 1em; color: #111; line-height: 1.55; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
.en { color: #555; } .lead { margin-top: 0; }
table { border-collapse: collapse; } th { text-align: left; font-weight: normal; color: #444;
        padding: .15em 1em .15em 0; vertical-align: top; white-space: nowrap; }
code, pre, .mono { font-family: "DejaVu Sans Mono", monospace; font-size: .88em; word-break: break-all; }
pre { background: #f5f5f5; padding: .6em; white-space: pre-wrap; }
li { margin: .25em 0; }
"""


def _both(zh: str, en: str) -> str:
    return f"{zh} <span class=en>{en}</span>"


def _link(path: str, zh: str, en: str) -> str:
    return f"<li><a href='{escape(path)}'><code>{escape(path)}</code></a> {_both(zh, en)}</li>"


def _templates(view: IndexView) -> str:
    templates = PAGE_TEMPLATES + (PRINTED_STATEMENTS if view.printed_statements else ())
    return "".join(f"<li><code>{escape(p)}</code> {_both(zh, en)}</li>" for p, zh, en in templates)


def _examples(view: IndexView) -> str:
    example = view.example
    if example is None:
        return ""
    rights = "rights/print" if view.printed_statements else "rights"
    links = [
        (f"/v1/certificates/{example.certificate_id}/print", "证书打印页", "a certificate, printable"),
        (f"/v1/households/{example.household_id}/{rights}", "该户权益清单", "its household's rights"),
    ]
    if example.party_id is not None:
        links.append(
            (f"/v1/parties/{example.party_id}/{rights}", "证书所列人员的权益清单", "a person's rights")
        )
    return "<p>" + _both("例如：", "For example:") + "</p><ul>" + "".join(_link(*x) for x in links) + "</ul>"


def render(view: IndexView) -> str:
    origin, size = escape(view.origin), view.snapshot.size
    facts = (
        ("账本 <span class=en>Origin</span>", f"<code>{origin}</code>"),
        ("记录数 <span class=en>Size</span>", _both(f"{size:,} 条记录", f"{size:,} records")),
        (
            "根哈希 <span class=en>Root hash</span>",
            f"<span class=mono>{view.snapshot.root_hash.hex()}</span>",
        ),
        (
            "运营方验证公钥 <span class=en>Operator verifier key</span>",
            f"<code>{escape(view.operator_key)}</code>",
        ),
    )
    return (
        f"<!DOCTYPE html><html lang=zh-CN><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>农村集体产权账本 Rural Ledger · {origin}</title><link rel=icon href='data:,'>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>农村集体产权账本 <span class=en>Rural Ledger</span></h1>"
        "<p class=lead>"
        + _both(
            "农村集体经济组织成员资格、股份、承包地和宅基地权利的账本：每一项变动都由作出变动的组织签名，"
            "按序号记入、只增不改，每批记录后由运营方签署检查点。任何人持运营方验证公钥，"
            "无需信任本服务器，即可核验某条记录已记入账本、账本只增未改。",
            "A ledger of collective membership, shares, contracted land and homestead rights: every "
            "change is signed by the organisation that makes it, recorded in order and never altered, "
            "and the operator signs a checkpoint after every batch. Anyone with the operator's verifier "
            "key can check, without trusting this server, that a record is in the ledger and that the "
            "ledger only grew.",
        )
        + "</p><h2>本账本 <span class=en>This ledger</span></h2><table>"
        + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
        + "</table><h2>最新检查点 <span class=en>Latest checkpoint</span></h2><pre>"
        + escape(view.snapshot.note)
        + "</pre><p>"
        + _both(
            "离线核验全部记录（运营方验证公钥请从运营方另行取得，例如其公布的 operator.pub，不要只信本页）：",
            "To check every record offline (take the operator's key from the operator, such as the "
            "operator.pub it publishes, not from this page alone):",
        )
        + f"</p><pre>rural-ledger verify {escape(view.base_url)} "
        f"--operator-key '{escape(view.operator_key)}'</pre>"
        + "<h2>去哪里看 <span class=en>Where to look</span></h2><ul>"
        + "".join(_link(*x) for x in LINKS)
        + "</ul><h2>公开页面 <span class=en>Public pages</span></h2><ul>"
        + _templates(view)
        + "</ul>"
        + _examples(view)
        + "</body></html>"
    )
