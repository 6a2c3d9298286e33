"""Article Markdown to safe HTML: CommonMark (markdown-it-py) without raw HTML, then nh3.

Raw HTML in an article is shown as text, never passed through; markdown-it refuses `javascript:`,
`vbscript:` and `data:` (except images) links, and the result is sanitised again by
firstring.lib.sanitize, so what an editor pastes from elsewhere stays inert.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

from firstring.lib.sanitize import html_to_text, sanitize_html

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


def render_markdown(source: str) -> str:
    """Sanitised HTML for an article body."""
    return sanitize_html(_MD.render(source))


def markdown_to_text(source: str) -> str:
    """The article's plain text, for search and excerpts."""
    return html_to_text(render_markdown(source))
