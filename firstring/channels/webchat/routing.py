from django.urls import path

from firstring.channels.webchat.consumers import ChatConsumer

# Served outside the staff websockets' session auth and allowed-hosts check: visitors' pages live on other
# sites, and the consumer checks each channel's own allowed origins.
websocket_urlpatterns = [path("ws/chat/<slug:slug>/", ChatConsumer.as_asgi())]
