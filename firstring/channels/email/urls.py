from django.urls import path

from firstring.channels.email import views

app_name = "email"
urlpatterns = [path("<slug:slug>/inbound", views.inbound, name="inbound")]
