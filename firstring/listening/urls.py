from django.urls import path

from firstring.listening import views

app_name = "listening"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("analytics/", views.analytics, name="analytics"),
    path("analytics/export/<slug:table>.csv", views.analytics_export, name="analytics-export"),
    path("monitors/", views.monitor_list, name="monitors"),
    path("monitors/new/", views.monitor_new, name="monitor-new"),
    path("monitors/new/preview/", views.monitor_preview, name="monitor-new-preview"),
    path("monitors/<int:monitor_id>/", views.monitor_edit, name="monitor"),
    path("monitors/<int:monitor_id>/preview/", views.monitor_preview, name="monitor-preview"),
    path("monitors/<int:monitor_id>/pause/", views.monitor_pause, name="monitor-pause"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert"),
    path("mentions/<int:mention_id>/assign/", views.assign, name="mention-assign"),
    path("mentions/<int:mention_id>/status/", views.set_status, name="mention-status"),
    path("mentions/<int:mention_id>/convert/", views.convert, name="mention-convert"),
    path("mentions/<int:mention_id>/reply/", views.reply, name="mention-reply"),
]
