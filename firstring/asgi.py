"""ASGI entry point: HTTP through Django, websockets through Channels."""

import os
from importlib import import_module
from importlib.util import find_spec

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firstring.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from firstring.web.routing import websocket_urlpatterns  # noqa: E402

# Channel plug-ins with websockets (the web chat) bring a `routing` module. Their visitors come from the
# pages of other sites: each plug-in's consumer checks its channels' own allowed origins.
plugin_websockets = []
for _plugin in settings.FIRSTRING_CHANNEL_PLUGINS:
    if find_spec(f"{_plugin}.routing") is not None:
        plugin_websockets += import_module(f"{_plugin}.routing").websocket_urlpatterns

# The staff's websockets: signed-in sessions, from this site's own pages only.
staff_websockets = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter([*plugin_websockets, re_path(r"", staff_websockets)]),
    }
)
