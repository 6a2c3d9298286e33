from django.urls import path

from firstring.community import views

app_name = "community"

# Under /<prefix>/<lang>/ (firstring/urls.py), beside the help center's own pages.
urlpatterns = [
    path("community/", views.index, name="index"),
    path("community/ask/", views.ask, name="ask"),
    path("community/c/<slug:slug>/", views.category, name="category"),
    path("community/t/<int:thread_id>/", views.thread, name="thread"),
    path("community/t/<int:thread_id>/answer/", views.answer, name="answer"),
    path("community/t/<int:thread_id>/accept/<int:post_id>/", views.accept, name="accept"),
    path("community/p/<int:post_id>/vote/", views.vote, name="vote"),
    path("community/p/<int:post_id>/flag/", views.flag, name="flag"),
    path("signin/", views.signin, name="signin"),
    path("signin/<str:token>/", views.signin_link, name="signin-link"),
    path("signout/", views.signout, name="signout"),
    path("me/conversations/", views.my_conversations, name="my-conversations"),
    path("me/conversations/<int:conversation_id>/", views.my_conversation, name="my-conversation"),
]
