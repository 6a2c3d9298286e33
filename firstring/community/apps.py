from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "firstring.community"
    label = "community"
    verbose_name = "Community"

    def ready(self) -> None:
        # The help center's search page lists community threads beside articles, its sitemap too.
        from firstring.community.search import register
        from firstring.community.selectors import sitemap_threads
        from firstring.knowledge.selectors import sitemap_source_register

        register()
        sitemap_source_register(sitemap_threads)
