from django.urls import path

from firstring.surveys import views

app_name = "surveys"

urlpatterns = [
    path("<str:signed>/", views.page, name="page"),
]
