"""X (Twitter) through its API v2, for customers who have a key: the filtered stream, and mentions.

One `Source` is one of them. `Source.config`:
- `stream`: `filtered` (`GET /2/tweets/search/stream`: the rules kept on X for the app) or
  `mentions` (`GET /2/users/:id/mentions`, polled every `poll_seconds`, 60, with `user_id`);
- `api_url` (`https://api.x.com`); `batch_size` (200), `batch_seconds` (1.0); `read_timeout` (30, X
  sends a keep-alive line every 20 s); `backfill_minutes` (1 to 5, where the plan offers it).
`Source.secrets`: `bearer_token` (the app's, for reading); `user_access_token` (an OAuth 2.0 user token
of the brand's account, scopes tweet.write and dm.write) for replies.

The stream is newline-delimited JSON (`data`, `includes.users`, `matching_rules`) with blank keep-alive
lines; a drop reconnects with backoff, a 429 waits for `x-rate-limit-reset`. Mentions are read with
`since_id` from the cursor, saved with the mentions. A retweet counts as a repost of its tweet.
Malformed and oversized events are skipped with a log entry. Replies go out as a tweet in reply
(`POST /2/tweets`) or, in private, a direct message to the author.
"""

from firstring.listening.sources import SourceKind, register
from firstring.listening.sources.x.tweets import reply, run

register(
    SourceKind(
        kind="x",
        label="X (API v2)",
        network="x",
        run=run,
        reply=reply,
        help="config: stream (filtered, mentions), user_id; secrets: bearer_token, user_access_token",
    )
)
