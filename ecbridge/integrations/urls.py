from django.urls import path

from ecbridge.integrations import progress_views, stock_views, views

app_name = "integrations"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("guide/", views.concept_guide, name="guide"),
    path("new/", views.account_create, name="create"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/delete/", views.account_delete, name="delete"),
    path("<int:pk>/test-connection/", views.account_test, name="test"),
    path("<int:pk>/authorize/", views.account_authorize, name="authorize"),
    path("<int:pk>/revoke/", views.account_revoke, name="revoke"),
    path("<int:pk>/fetch-orders/", views.account_fetch, name="fetch"),
    path("<int:pk>/sync-product-mappings/", stock_views.sync_mappings, name="sync_mappings"),
    path("<int:pk>/product-mappings/", stock_views.product_mappings, name="product_mappings"),
    path(
        "<int:pk>/product-mappings/<int:mapping_id>/stock-listing/",
        stock_views.make_stock_listing,
        name="make_stock_listing",
    ),
    path("<int:pk>/stock-sync/", stock_views.manual_stock_sync, name="stock_sync"),
    path("<int:pk>/stock-runs/<int:run_id>/", stock_views.stock_run, name="stock_run"),
    path(
        "<int:pk>/stock-runs/<int:run_id>/retry-failed/", stock_views.retry_stock_run, name="retry_stock_run"
    ),
    path("progress/<slug:kind>/<int:pk>/", progress_views.progress_fragment, name="progress"),
    path("oauth/<slug:platform>/callback/", views.oauth_callback, name="oauth_callback"),
]
