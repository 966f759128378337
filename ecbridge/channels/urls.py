from django.urls import path

from ecbridge.channels import views

app_name = "channels"
urlpatterns = [
    path("", views.channel_list, name="list"),
    path("new/", views.channel_create, name="create"),
    path("shipping-types/", views.shipping_types, name="shipping_types"),
    path("<int:pk>/", views.channel_detail, name="detail"),
    path("<int:pk>/edit/", views.channel_edit, name="edit"),
]
