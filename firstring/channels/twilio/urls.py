from django.urls import path

from firstring.channels.twilio import views

app_name = "twilio"
urlpatterns = [
    path("<slug:slug>/inbound", views.inbound, name="inbound"),
    path("<slug:slug>/status", views.status, name="status"),
]
