"""The console's rendering: both catalogues say the same things, every phrase a template asks
for is in them, what a page is given is escaped, and the reader's choices come from the query
before the cookies."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from markupsafe import Markup

from api.console import render
from api.console.render import choices, environment, script_json, translate

CONSOLE = Path(render.__file__).parent
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']\s*[,)]""")


def test_the_chinese_and_english_catalogues_have_the_same_phrases() -> None:
    zh, en = render.catalogue("zh"), render.catalogue("en")
    assert set(zh) == set(en), set(zh) ^ set(en)
    # Each desk's file has its English twin.
    names = {lang: [p.name for p in render.catalogue_files(lang)] for lang in ("zh", "en")}
    assert names["zh"][1:] == names["en"][1:], names
    assert all(isinstance(v, str) and v for v in [*zh.values(), *en.values()])


def test_every_phrase_a_template_names_is_in_the_catalogue() -> None:
    zh = render.catalogue("zh")
    named = {
        key
        for template in (CONSOLE / "templates").glob("*.html")
        for key in LITERAL_KEY.findall(template.read_text(encoding="utf-8"))
    }
    assert named and not named - set(zh), named - set(zh)


def test_a_missing_english_phrase_falls_back_to_chinese_and_an_unknown_key_shows_itself() -> None:
    assert translate("en", "nav.large_type") == "Large type"
    assert translate("zh", "nav.large_type") == "大字"
    assert translate("en", "no.such.key") == "no.such.key"
    assert translate("zh", "verify.lead", seq=7).startswith("本页在您的浏览器中核验账本第 7 号记录")


def test_what_a_page_is_given_is_escaped() -> None:
    html = environment().from_string("<p>{{ value }}</p>").render(value="<script>x</script>")
    assert html == "<p>&lt;script&gt;x&lt;/script&gt;</p>"
    page = render.render(None, "verify_missing.html", nav=(), reason_key="verify.bad_seq", seq="<b>1</b>")
    assert "<b>1</b>" not in page and "&lt;b&gt;1&lt;/b&gt;" in page


def test_a_control_character_given_to_a_page_is_never_written_out() -> None:
    html = (
        environment()
        .from_string('<input value="{{ v }}">{{ m }}')
        .render(v="a\x00b\x1bc", m=Markup("<b>\x00</b>"))
    )
    assert html == '<input value="a\ufffdb\ufffdc"><b>\ufffd</b>'
    assert environment().from_string("{{ v }}").render(v="行\n\t末") == "行\n\t末"


def test_json_for_a_script_element_cannot_close_it() -> None:
    out = script_json({"note": "</script><!-- & \u2028"})
    assert isinstance(out, Markup)
    assert "</script" not in out and "<!--" not in out and "&" not in out and "\u2028" not in out
    assert json.loads(str(out)) == {"note": "</script><!-- & \u2028"}


class _Request:
    def __init__(self, query: dict[str, str], cookies: dict[str, str]) -> None:
        self.query_params = query
        self.cookies = cookies


def chosen(query: dict[str, str], cookies: dict[str, str]) -> tuple[str, bool, list[tuple[str, Any]]]:
    c = choices(_Request(query, cookies))  # type: ignore[arg-type]
    return c.lang, c.large, [(k.key, k.value) for k in c.cookies]


def test_the_query_chooses_before_the_cookies_and_sets_them() -> None:
    assert choices(None).lang == "zh" and not choices(None).large
    assert chosen({}, {}) == ("zh", False, [])
    assert chosen({}, {"rl_lang": "en", "rl_large": "1"}) == ("en", True, [])
    assert chosen({"lang": "zh", "large": "0"}, {"rl_lang": "en", "rl_large": "1"}) == (
        "zh",
        False,
        [("rl_lang", "zh"), ("rl_large", "0")],
    )
    assert chosen({"lang": "fr", "large": "2"}, {"rl_lang": "xx"}) == ("zh", False, [])
