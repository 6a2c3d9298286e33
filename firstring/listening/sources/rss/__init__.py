"""Blogs, news and review sites: RSS and Atom feeds, polled with conditional requests.

`Source.config`:
- `url`: the feed's URL;
- `poll_seconds` (300): how often to fetch it.

Each poll sends the ETag and Last-Modified of the last good answer (`If-None-Match`,
`If-Modified-Since`); a 304 costs nothing. Redirects are followed at most 5 times. A failure (network
error, 4xx/5xx, too many redirects, a body over 5 MB, something that is not a feed) is logged, kept in
`Source.state` and retried with backoff per feed: `poll_seconds * 2^failures`, at most 6 hours, or the
server's `Retry-After` if longer. Entries become article mentions keyed by their canonical link, so the
same article in two feeds is stored once; the validators are saved only after the entries are stored.
"""

from firstring.listening.sources import SourceKind, register
from firstring.listening.sources.rss.feeds import run

register(
    SourceKind(
        kind="rss",
        label="RSS / Atom feed",
        network="web",
        run=run,
        help="config: url (the feed), poll_seconds",
    )
)
