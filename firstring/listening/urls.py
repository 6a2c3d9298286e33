from django.urls import path

from firstring.listening.views import analytics, inbox, monitors

app_name = "listening"

urlpatterns = [
    path("", inbox.inbox, name="inbox"),
    path("analytics/", analytics.analytics, name="analytics"),
    path("analytics/export/<slug:table>.csv", analytics.analytics_export, name="analytics-export"),
    path("monitors/", monitors.monitor_list, name="monitors"),
    path("monitors/new/", monitors.monitor_new, name="monitor-new"),
    path("monitors/new/preview/", monitors.monitor_preview, name="monitor-new-preview"),
    path("monitors/<int:monitor_id>/", monitors.monitor_edit, name="monitor"),
    path("monitors/<int:monitor_id>/preview/", monitors.monitor_preview, name="monitor-preview"),
    path("monitors/<int:monitor_id>/pause/", monitors.monitor_pause, name="monitor-pause"),
    path("alerts/<int:alert_id>/", inbox.alert_detail, name="alert"),
    path("mentions/<int:mention_id>/assign/", inbox.assign, name="mention-assign"),
    path("mentions/<int:mention_id>/status/", inbox.set_status, name="mention-status"),
    path("mentions/<int:mention_id>/convert/", inbox.convert, name="mention-convert"),
    path("mentions/<int:mention_id>/reply/", inbox.reply, name="mention-reply"),
]
