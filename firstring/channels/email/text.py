"""Text from e-mail bodies: HTML to plain lines, and the new part of a reply without quotes or signature."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from mailparser_reply import EmailReplyParser

# Elements that end a line of text, and elements whose content is never text.
_BLOCKS = {
    "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "footer", "h1", "h2", "h3", "h4",
    "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "tr", "ul",
}  # fmt: skip
_SKIPPED = {"head", "script", "style", "title", "template", "noscript"}


class _Lines(HTMLParser):
    """Plain text from HTML that keeps the lines, with quoted blocks prefixed by "> " as mail clients do."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.skip_depth = 0

    def _break(self) -> None:
        line = re.sub(r"[ \t\r\n\f\xa0]+", " ", "".join(self.current)).strip()
        self.current = []
        prefix = "> " * self.quote_depth
        if line or (self.lines and self.lines[-1].strip("> ")):
            self.lines.append(prefix + line)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skip_depth += 1
        elif tag in _BLOCKS:
            self._break()
            if tag == "blockquote":
                self.quote_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCKS:
            self._break()
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.current.append(data)


def html_to_lines(html: str) -> str:
    """A plain-text rendering of an HTML mail body that keeps its paragraphs and quotes."""
    parser = _Lines()
    parser.feed(html)
    parser.close()
    parser._break()
    return "\n".join(parser.lines).strip()


_PARSERS: dict[tuple[str, ...], EmailReplyParser] = {}
# The reply parser's header patterns take time quadratic in a line's length (a 10 kB line of
# "On … wrote" takes seconds): beyond these sizes it only looks at a bounded copy of the text.
_DETECT_CHARS = 20_000
_DETECT_LINE = 300


def latest_reply(text: str, languages: tuple[str, ...] = ("en", "de")) -> tuple[str, bool]:
    """The new text of a reply (quoted earlier messages, "On … wrote:" headers and signatures removed)
    and whether anything was removed.

    Falls back to the whole text when the parser finds nothing left (a message that is all signature).
    """
    whole = "\n".join(line.strip() for line in text.replace("\r\n", "\n").split("\n")).strip()
    parser = _PARSERS.get(languages)
    if parser is None:
        parser = _PARSERS[languages] = EmailReplyParser(languages=list(languages))
    lines = whole.split("\n")
    if len(whole) > _DETECT_CHARS or any(len(line) > _DETECT_LINE for line in lines):
        return _cut_long(parser, whole, lines)
    try:
        message = parser.read(whole)
    except (re.error, RecursionError, IndexError):  # the parser's regexes on pathological input
        return whole, False
    body = _without_trailing_quote((message.replies[0].body if message.replies else "").strip())
    if not body or body == whole:
        return whole, False
    return body, True


def _cut_long(parser: EmailReplyParser, whole: str, lines: list[str]) -> tuple[str, bool]:
    """For long text: find the first quoted reply in a bounded copy and cut the text there."""
    head: list[str] = []
    size = 0
    for line in lines:
        if size > _DETECT_CHARS:
            break
        head.append(line[:_DETECT_LINE])
        size += len(head[-1]) + 1
    try:
        message = parser.read("\n".join(head))
    except (re.error, RecursionError, IndexError):
        return whole, False
    if len(message.replies) < 2 or not whole.startswith(message.replies[0].content.split("\n", 1)[0]):
        return whole, False
    kept = message.replies[0].content.count("\n") + 1
    body = _without_trailing_quote("\n".join(lines[:kept]).strip())
    if not body or body == whole:
        return whole, False
    return body, True


def _without_trailing_quote(text: str) -> str:
    """Drop a quoted block ("> …" lines) at the end that came without an "On … wrote:" line."""
    lines = text.split("\n")
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    return "\n".join(lines[:end]).strip()
