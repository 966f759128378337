from django.urls import path

from ecbridge.apilog import views

app_name = "apilog"
urlpatterns = [
    path("", views.index, name="list"),
    path("<int:pk>/", views.detail, name="detail"),
]
