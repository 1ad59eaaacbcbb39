"""Rendering console pages: one Jinja2 environment (autoescape on) over ``templates/``, the
zh/en catalogues in ``i18n/`` (``<lang>.json`` and each desk's ``<lang>/<desk>.json``), and the
reader's two choices kept in cookies: the language (``rl_lang``: Simplified Chinese unless
``en``) and large type (``rl_large``).

``?lang=en`` / ``?lang=zh`` and ``?large=1`` / ``?large=0`` on any page set the cookie and
answer the page in that choice at once. Templates get ``t(key, **values)`` for every word they
show, ``lang``, ``large``, ``static(path)`` for the service's own assets, and ``switch(...)``
for the links that flip a choice while keeping the page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import MediaType, Request, Response
from litestar.datastructures import Cookie
from markupsafe import Markup

from api.console.static_files import STATIC_PATH

HERE = Path(__file__).parent
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANG_COOKIE = "rl_lang"
LARGE_COOKIE = "rl_large"
CHOICE_MAX_AGE = 365 * 24 * 3600  # a reader's choice is kept a year


# C0 controls but tab, newline and carriage return, and DEL: what a page never shows as typed.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def printable(value: Any) -> Any:
    """A value as a page shows it: a control character (a NUL typed into a form and shown back
    with the refusal, say) replaced by U+FFFD; escaped text stays escaped."""
    if isinstance(value, str) and _UNPRINTABLE.search(value):
        cleaned = _UNPRINTABLE.sub("\ufffd", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned
    return value


@cache
def environment() -> Environment:
    """The one template environment; autoescape on for every template (``.html`` and the rest),
    and no control character in what it writes (``printable``)."""
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=printable,
    )


def catalogue_files(lang: str) -> list[Path]:
    """The files of one language's words: ``i18n/<lang>.json`` (the words every page shares)
    and each desk's own ``i18n/<lang>/<desk>.json``."""
    return [HERE / "i18n" / f"{lang}.json", *sorted((HERE / "i18n" / lang).glob("*.json"))]


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    """The words of one language, by key, from all its files; a key said by two files is an
    error (one of them would be silently lost)."""
    words: dict[str, str] = {}
    for path in catalogue_files(lang):
        with open(path, encoding="utf-8") as f:
            part: dict[str, str] = json.load(f)
        twice = sorted(set(part) & set(words))
        if twice:
            raise ValueError(f"{path.name} says again what another catalogue file says: {twice[:5]}")
        words.update(part)
    return words


def translate(lang: str, key: str, **values: Any) -> str:
    """The phrase for ``key`` in ``lang``; the Chinese one when English lacks it, the key itself
    when both do (so a missing phrase shows, never fails the page)."""
    phrase = catalogue(lang).get(key) or catalogue(DEFAULT_LANGUAGE).get(key) or key
    return phrase.format(**values) if values else phrase


@dataclass(frozen=True)
class Choices:
    """The reader's language and type size for this page, and which cookies to set for them."""

    lang: str
    large: bool
    cookies: tuple[Cookie, ...] = ()


def choices(request: Request[Any, Any, Any] | None) -> Choices:
    """The language and type size: the query's when it names one (and then a cookie keeps it),
    else the cookies', else Chinese at the ordinary size."""
    if request is None:
        return Choices(DEFAULT_LANGUAGE, False)
    cookies: list[Cookie] = []
    lang = request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        lang = asked
        cookies.append(_choice_cookie(LANG_COOKIE, asked))
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    large = request.cookies.get(LARGE_COOKIE) == "1"
    asked_large = request.query_params.get("large")
    if asked_large in ("0", "1"):
        large = asked_large == "1"
        cookies.append(_choice_cookie(LARGE_COOKIE, asked_large))
    return Choices(lang, large, tuple(cookies))


def _choice_cookie(key: str, value: str) -> Cookie:
    # Not HttpOnly: nothing secret; SameSite=Lax like the session's.
    return Cookie(key=key, value=value, path="/", max_age=CHOICE_MAX_AGE, samesite="lax")


def script_json(value: Any) -> Markup:
    """JSON safe inside a ``<script type=application/json>`` element: ``<``, ``>`` and ``&`` as
    ``\\u`` escapes, so no string in it can close the element or open a comment."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def static(path: str) -> str:
    """The URL of one of the console's own assets."""
    return f"{STATIC_PATH}/{path.lstrip('/')}"


def _switcher(request: Request[Any, Any, Any] | None) -> Callable[..., str]:
    def switch(**choice: str) -> str:
        """This page's path and query with one choice changed (``lang=en``, ``large=1``)."""
        if request is None:
            return "?" + urlencode(choice)
        query = {k: v for k, v in request.query_params.items() if k not in choice}
        query.update(choice)
        return f"{request.url.path}?{urlencode(query)}"

    return switch


def render(request: Request[Any, Any, Any] | None, template: str, **context: Any) -> str:
    """One page's HTML. The context may carry ``user`` (the signed-in console user: ``username``,
    ``org_id``, ``role``), ``csrf`` (the session's token, for the sign-out form and every other
    form) and ``nav`` (a list of ``(href, key)``); ``base.html`` shows what it is given."""
    chosen = choices(request)
    return _render(request, chosen, template, context)


def _render(
    request: Request[Any, Any, Any] | None, chosen: Choices, template: str, context: Mapping[str, Any]
) -> str:
    lang = chosen.lang

    def t(key: str, **values: Any) -> str:
        return translate(lang, key, **values)

    def phrases(*prefixes: str) -> Markup:
        """The phrases whose keys start with one of ``prefixes``, as JSON for a page's script."""
        words = {**catalogue(DEFAULT_LANGUAGE), **catalogue(lang)}
        return script_json({k: v for k, v in words.items() if k.startswith(prefixes)})

    values: dict[str, Any] = {
        "user": None,
        "csrf": None,
        "nav": (),
        "title_key": None,
        "print_only": False,
        **context,
        "t": t,
        "phrases": phrases,
        "lang": lang,
        "html_lang": "zh-Hans" if lang == "zh" else "en",
        "large": chosen.large,
        "static": static,
        "switch": _switcher(request),
    }
    return environment().get_template(template).render(values)


def page(
    request: Request[Any, Any, Any] | None,
    template: str,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Response[str]:
    """One page as an HTML response, setting the cookies of any choice the query made."""
    chosen = choices(request)
    body = _render(request, chosen, template, context)
    return Response(
        body,
        status_code=status_code,
        media_type=MediaType.HTML,
        headers=dict(headers or {}),
        cookies=[*chosen.cookies, *(cookies or [])],
    )
