from django.urls import path

from firstring.channels.webchat import views

app_name = "webchat"
urlpatterns = [
    path("widget.js", views.widget, name="widget"),
    path("<slug:slug>/", views.setup, name="setup"),
]
