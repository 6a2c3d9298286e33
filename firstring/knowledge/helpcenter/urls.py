from django.urls import path

from firstring.knowledge.helpcenter import views

app_name = "help"

urlpatterns = [
    path("", views.root, name="root"),
    path("sitemap.xml", views.sitemap, name="sitemap"),
    path("brand.css", views.brand_css, name="brand-css"),
    path("files/<int:attachment_id>/<str:name>", views.attachment, name="file"),
    path("<str:lang>/", views.home, name="home"),
    path("<str:lang>/search/", views.search, name="search"),
    path("<str:lang>/contact/", views.contact, name="contact"),
    path("<str:lang>/categories/<slug:slug>/", views.category, name="category"),
    path("<str:lang>/articles/<int:article_id>/", views.article_bare, name="article-bare"),
    path("<str:lang>/articles/<int:article_id>/vote/", views.vote, name="vote"),
    path("<str:lang>/articles/<int:article_id>-<str:slug>/", views.article, name="article"),
]
