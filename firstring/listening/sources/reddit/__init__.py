"""Reddit: a subreddit's new posts or new comments, or a search, polled through Reddit's JSON listings.

One `Source` is one listing. `Source.config`:
- `listing`: `new` (a subreddit's submissions), `comments` (its comments) or `search` (with `query`,
  across Reddit or within `subreddit`);
- `subreddit`: the subreddit's name (several joined with `+`);
- `poll_seconds` (60); `max_pages` (5): pages of 100 read back to the cursor on one poll;
- `api_url`: where the listings are (`https://www.reddit.com`, or `https://oauth.reddit.com` with a
  token); `auth_url` (`https://www.reddit.com`): where tokens come from.
`Source.secrets`: `client_id` and `client_secret` of a Reddit app. With them the source takes an
application-only OAuth token (client credentials) and sends it as a bearer, as Reddit asks of API
clients; without them it reads the public JSON.

A listing is newest first: each poll reads pages (`after`) back to the cursor, the newest thing stored
as `created_utc:fullname`, saved with the mentions. A link post is one mention with any other post of
the same link; a crosspost counts as a repost of its parent. Malformed and oversized things are skipped
with a log entry; 429 and 5xx answers wait for Retry-After (or Reddit's X-Ratelimit-Reset). Reddit
offers no reply here: its API answers only with a user's token (ADR 11).
"""

from firstring.listening.sources import SourceKind, register
from firstring.listening.sources.reddit.listings import run

register(
    SourceKind(
        kind="reddit",
        label="Reddit",
        network="reddit",
        run=run,
        help="config: listing (new, comments, search), subreddit, query; secrets: client_id, client_secret",
    )
)
