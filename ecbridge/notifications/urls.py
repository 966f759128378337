from django.urls import path

from ecbridge.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("dropdown/", views.dropdown, name="dropdown"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
]
