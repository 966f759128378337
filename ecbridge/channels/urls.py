from django.urls import path

from ecbridge.channels import views

app_name = "channels"
urlpatterns = [
    path("", views.index, name="list"),
]
