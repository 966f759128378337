from django.urls import path

from ecbridge.tenancy import views

app_name = "tenancy"
urlpatterns = [
    path("switch-merchant/", views.switch_merchant, name="switch_merchant"),
    path("api-tokens/", views.api_tokens, name="api_tokens"),
    path("api-tokens/<int:pk>/revoke/", views.revoke_api_token, name="revoke_api_token"),
]
