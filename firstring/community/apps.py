from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "firstring.community"
    label = "community"
    verbose_name = "Community"

    def ready(self) -> None:
        # The help center's search page lists community threads beside articles.
        from firstring.community.search import register

        register()
