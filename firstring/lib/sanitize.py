"""Making customer-supplied HTML and text safe to show."""

from __future__ import annotations

import html as html_lib
import re

import nh3

# Formatting a support reply needs; no scripts, styles, forms, frames or event handlers.
_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "abbr": {"title"},
}
# cid: for inline e-mail images, which the channel rewrites to stored attachment URLs.
_URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
_URL_RE = re.compile(r"(https?://[^\s<>\"']+)")
# Tags that end a line or a block: they become a space, so "<p>a</p><p>b</p>" reads "a b", not "ab".
_BREAK_RE = re.compile(r"<(?:br|hr|/p|/div|/li|/h[1-6]|/blockquote|/tr|/td|/th)\b[^>]*>", re.IGNORECASE)


def sanitize_html(raw: str) -> str:
    """Keep harmless formatting; drop scripts, handlers, styles and javascript: URLs."""
    if not raw:
        return ""
    return nh3.clean(
        raw,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def text_to_html(text: str) -> str:
    """Escape plain text and turn line breaks and bare http(s) links into HTML."""
    escaped = html_lib.escape(text)
    linked = _URL_RE.sub(r'<a href="\1" rel="noopener noreferrer nofollow">\1</a>', escaped)
    paragraphs = [p.replace("\n", "<br>") for p in re.split(r"\n{2,}", linked.strip()) if p]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def html_to_text(raw: str) -> str:
    """A plain-text rendering of HTML, for excerpts and search."""
    without_tags = nh3.clean(_BREAK_RE.sub(" ", raw), tags=set(), attributes={})
    return re.sub(r"\s+", " ", html_lib.unescape(without_tags)).strip()


def first_sentences(text: str, length: int = 300) -> str:
    """Whole sentences from the start of `text` up to `length` characters (at least the first, cut)."""
    flat = re.sub(r"\s+", " ", text).strip()
    sentences = re.findall(r"[^.!?]+[.!?]*(?:\s|$)", flat)
    answer = ""
    for sentence in sentences:
        if answer and len(answer) + len(sentence) > length:
            break
        answer += sentence
    return excerpt(answer.strip() or flat, length)


def excerpt(text: str, length: int = 160) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"
