"""Bluesky through Jetstream: the public firehose as JSON over a websocket.

`Source.config`:
- `url`: the Jetstream subscribe endpoint (default `wss://jetstream2.us-east.bsky.network/subscribe`);
- `batch_size` (500) and `batch_seconds` (1.0): how many events, or how long, before a batch is stored;
- `appview_url` (`https://public.api.bsky.app`): where matched posts' authors are looked up
  (`app.bsky.actor.getProfiles`) for their handle and followers, the mentions' reach; "" turns it off.

The source asks for `app.bsky.feed.post` (posts, replies, quotes) and `app.bsky.feed.repost`, and reads
`identity` events for handles. `Source.cursor` is the `time_us` of the last event of the last stored
batch; a reconnect (after a drop, a crash, a restart) resumes from it with `?cursor=`, so nothing is
missed, and the events replayed at the cursor are de-duplicated. Malformed events are skipped with a
log entry; a dropped connection is retried with exponential backoff (1 s doubling to 60 s).
"""

from firstring.listening.sources import SourceKind, register
from firstring.listening.sources.bluesky.jetstream import run
from firstring.listening.sources.bluesky.profiles import profiles

register(
    SourceKind(
        kind="bluesky",
        label="Bluesky (Jetstream)",
        network="bluesky",
        run=run,
        profiles=profiles,
        help="config: url (a Jetstream subscribe endpoint), batch_size, batch_seconds, appview_url",
    )
)
