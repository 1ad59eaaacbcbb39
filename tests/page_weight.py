"""A page's weight as a reader on a slow link pays it: the page and everything it loads from the
service (style sheets, scripts, images, and what the style sheets load), in bytes, and every
reference to anywhere else, which a page of this service must not have."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

LIMIT_BYTES = 100 * 1024
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


@dataclass
class PageWeight:
    """What loading ``url`` costs: ``sizes`` by URL (the page first), and ``external``, every
    URL it would load from another origin (not fetched)."""

    url: str
    status: int = 0  # the page's own status: a refusal page is weighed too
    sizes: dict[str, int] = field(default_factory=dict)
    external: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.sizes.values())


class _Loads(HTMLParser):
    """What an HTML page makes a browser load: stylesheets, scripts, images, frames, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_css: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and set(a.get("rel", "").lower().split()) & {"stylesheet", "icon", "preload"}:
            self.urls.append(a.get("href", ""))
        elif tag in ("script", "img", "iframe", "audio", "video", "source", "embed") and a.get("src"):
            self.urls.append(a["src"])
        elif tag == "object" and a.get("data"):
            self.urls.append(a["data"])
        if "style" in a:
            self.inline_css.append(a["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.inline_css.append(data)


def _css_urls(css: str) -> list[str]:
    return [m.group(1) or m.group(2) for m in _CSS_URL.finditer(css)]


async def page_weight(http: httpx.AsyncClient, path: str) -> PageWeight:
    """Fetch ``path`` and, recursively, everything it loads from the same origin; a ``data:``
    URL costs nothing more than the bytes already counted."""
    base = str(http.base_url).rstrip("/") or "http://testserver.local"
    start = urljoin(base + "/", path.lstrip("/"))
    weight = PageWeight(start)
    origin = urlsplit(start)[:2]
    queue = [start]
    while queue:
        url = queue.pop(0)
        if url in weight.sizes:
            continue
        r = await http.get(url)
        if url == start:
            weight.status = r.status_code
        else:  # what the page loads must be there
            assert r.status_code == 200, (url, r.status_code)
        weight.sizes[url] = len(r.content)
        kind = r.headers.get("content-type", "")
        if kind.startswith("text/html"):
            parser = _Loads()
            parser.feed(r.text)
            found = parser.urls + [u for css in parser.inline_css for u in _css_urls(css)]
        elif kind.startswith("text/css"):
            found = _css_urls(r.text)
        else:
            found = []
        for ref in found:
            if not ref or ref.startswith(("data:", "#")):
                continue
            absolute = urljoin(url, ref)
            if urlsplit(absolute)[:2] != origin:
                weight.external.append(absolute)
            elif absolute not in weight.sizes:
                queue.append(absolute)
    return weight
