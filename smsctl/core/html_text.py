"""A readable plain-text version of an HTML email body (the text/plain part smsctl generates
when only --html is given). Kept apart from templating so that SMS and voice never import
html.parser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "div", "dl", "dt", "dd", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
}  # fmt: skip
_SKIPPED_TAGS = {"head", "script", "style", "title", "template"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip_depth = 0
        self._links: list[tuple[str | None, int]] = []  # (href, chunk index where the link began)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
        elif tag == "br":
            self.chunks.append("\n")
        elif tag == "li":
            self.chunks.append("\n- ")
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n\n")
        elif tag in ("td", "th"):
            self.chunks.append(" ")
        elif tag == "a":
            self._links.append((dict(attrs).get("href"), len(self.chunks)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.chunks.append("\n\n")
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            label = " ".join("".join(self.chunks[start:]).split())
            if href and not href.startswith(("#", "javascript:")) and href != label:
                self.chunks.append(f" ({href})" if label else href)

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.chunks.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """A readable plain-text version of an HTML body: paragraphs, line breaks, link URLs kept."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.chunks).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
