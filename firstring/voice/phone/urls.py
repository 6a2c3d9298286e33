from django.urls import path

from firstring.voice.phone import twilio

app_name = "phone"

urlpatterns = [
    path(f"twilio/<slug:slug>/{name}", view, name=f"twilio-{name}") for name, view in twilio.HOOKS.items()
]
