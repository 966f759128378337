from django.urls import path

from ecbridge.integrations import views

app_name = "integrations"
urlpatterns = [
    path("", views.index, name="list"),
]
