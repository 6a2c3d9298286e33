from django.urls import path

from firstring.channels.webchat import views

app_name = "webchat"
urlpatterns = [
    path("widget.js", views.widget, name="widget"),
    path("files/<str:token>", views.file, name="file"),
    path("<slug:slug>/", views.setup, name="setup"),
    path("<slug:slug>/upload", views.upload, name="upload"),
    path("<slug:slug>/suggest", views.suggest, name="suggest"),
    path("<slug:slug>/suggest/opened", views.suggest_opened, name="suggest-opened"),
]
