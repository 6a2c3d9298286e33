from django.urls import path

from firstring.web import views

app_name = "web"

urlpatterns = [
    path("", views.inbox, name="inbox"),
]
