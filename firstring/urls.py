from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from firstring.api.main import api
from firstring.web import views as web_views

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("internal/live/", web_views.live_forward, name="live-forward"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("accounts/", include("firstring.web.auth_urls")),
    path("listening/", include("firstring.listening.urls")),
    path("survey/", include("firstring.surveys.urls")),
]
# Channel plug-ins with webhooks or setup pages bring a `urls` module: served under /channels/<kind>/.
for _plugin in settings.FIRSTRING_CHANNEL_PLUGINS:
    if find_spec(f"{_plugin}.urls") is not None:
        _kind = _plugin.rsplit(".", 1)[-1]
        urlpatterns.append(path(f"channels/{_kind}/", include(import_module(f"{_plugin}.urls"))))
urlpatterns.append(path("", include("firstring.web.urls")))
# The community's pages under each help center, then the help centers themselves.
urlpatterns.append(path("<slug:prefix>/<str:lang>/", include("firstring.community.urls")))
# Help centers last: /<prefix>/ of each brand, whatever the paths above leave free.
urlpatterns.append(path("<slug:prefix>/", include("firstring.knowledge.helpcenter.urls")))

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "firstring.web.errors.bad_request"
handler500 = "firstring.web.errors.server_error"
