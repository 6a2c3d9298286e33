"""The agents' pages, one module per screen."""

from firstring.web.views.ops import healthz

__all__ = ["healthz"]
