"""The agents' pages, one module per screen."""

from firstring.web.views.ops import healthz, live_forward

__all__ = ["healthz", "live_forward"]
