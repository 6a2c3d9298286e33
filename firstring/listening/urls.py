from django.urls import path

from firstring.listening import views

app_name = "listening"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("analytics/", views.analytics, name="analytics"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="alert"),
    path("mentions/<int:mention_id>/assign/", views.assign, name="mention-assign"),
    path("mentions/<int:mention_id>/status/", views.set_status, name="mention-status"),
    path("mentions/<int:mention_id>/convert/", views.convert, name="mention-convert"),
    path("mentions/<int:mention_id>/reply/", views.reply, name="mention-reply"),
]
