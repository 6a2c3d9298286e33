from importlib import import_module

from django.apps import AppConfig
from django.conf import settings


class ChannelsConfig(AppConfig):
    name = "firstring.channels"
    # "channels" is taken by the Channels websocket library.
    label = "firstring_channels"
    verbose_name = "Channels"

    def ready(self) -> None:
        # Each plug-in registers its kind when imported.
        for plugin in settings.FIRSTRING_CHANNEL_PLUGINS:
            import_module(plugin)
