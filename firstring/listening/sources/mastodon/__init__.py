"""Mastodon: the streaming API's public and hashtag timelines of chosen instances, and the brand
account's notifications; replies in public or private through the statuses API.

One `Source` is one timeline of one instance. `Source.config`:
- `instance`: the instance's URL (`https://mastodon.social`);
- `timeline`: `public` (the federated timeline), `local`, `hashtag` (with `tag`), or `notifications`
  (the brand account's mentions, polled every `poll_seconds`, 60);
- `batch_size` (200), `batch_seconds` (1.0): how many statuses, or how long, before a batch is stored;
- `read_timeout` (90): seconds without a byte (Mastodon sends a `:thump` every 10 s) before reconnecting;
- `backfill_pages` (5): pages of 40 statuses fetched after a reconnect.
`Source.secrets`: `access_token` of the brand's account (scopes `read` and `write:statuses`); the
streaming API of most instances, notifications and replies need it.

Timelines are read as Server-Sent Events (`update` events carry a Status; `:thump` heartbeats). The
streaming API keeps no history, so `Source.cursor` is the newest status id stored: after a drop the
source reconnects with backoff (1 s doubling to 60 s) and pages the REST timeline forward from the
cursor (`min_id`) before reading the stream again. Notifications are paged the same way, and the cursor
(the `since_id` of the next poll) is saved in the transaction that stores the mentions. A status is one
mention by its URI, however many instances and timelines it reaches; its HTML content is reduced to
text. Malformed and oversized events are skipped with a log entry; 429 and 5xx answers wait for their
Retry-After.
"""

from firstring.listening.sources import SourceKind, register
from firstring.listening.sources.mastodon.read import run
from firstring.listening.sources.mastodon.reply import reply

register(
    SourceKind(
        kind="mastodon",
        label="Mastodon",
        network="mastodon",
        run=run,
        reply=reply,
        help="config: instance, timeline (public, local, hashtag, notifications), tag; secrets: access_token",
    )
)
