"""The REST API under /api/v1/. Every router obeys the same merchant scoping as the pages:
another merchant's object answers 404."""

from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import ValidationError
from pydantic.json_schema import models_json_schema

from ecbridge.api.auth import AUTH
from ecbridge.api.schemas import Detail, InvalidOut


class EcbridgeAPI(NinjaAPI):
    """Declares, on every operation, the answers every operation can give: 401 without a valid
    token or session, 404 for an id that is not yours, 400 for input a rule refused, 422 for
    input that fails validation."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (Detail, InvalidOut):
            _, definitions = models_json_schema(
                [(model, "serialization")], ref_template="#/components/schemas/{model}"
            )
            components.update(definitions.get("$defs", {}))
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                standard = {401: ("Detail", "Not signed in, or the token is not valid.")}
                if "{" in path or operation.get("requestBody"):  # ids in the path or the body
                    standard[404] = ("Detail", "No such object, or it is not yours.")
                if operation.get("parameters") or operation.get("requestBody"):
                    standard[400] = ("Detail", "A rule refused the input; detail names the field and why.")
                    standard[422] = ("InvalidOut", "The input failed validation; errors name each field.")
                for status, (component, text) in standard.items():
                    responses.setdefault(
                        status,
                        {
                            "description": text,
                            "content": {
                                "application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}
                            },
                        },
                    )
        return schema


api = EcbridgeAPI(
    title="ecbridge API",
    version="1",
    description="EC Integrations: sales channels, EC accounts, platforms and platform API logs.",
    auth=AUTH,
    urls_namespace="api",
)


@csrf_exempt  # like the API's own views: callers use tokens, not forms
def api_index(request):
    """/api/v1/ itself: where the documentation is."""
    return JsonResponse(
        {"docs": request.build_absolute_uri("docs"), "openapi": request.build_absolute_uri("openapi.json")}
    )


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """No API path matched: answer like every other API 404."""
    return JsonResponse({"detail": "Not found."}, status=404)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(ValidationError)
def validation_error(request, exc):
    return api.create_response(request, {"detail": "Invalid input.", "errors": exc.errors}, status=422)


def _add_routers():
    from ecbridge.apilog.api import router as apilog_router
    from ecbridge.channels.api import router as channels_router
    from ecbridge.integrations.api import platforms_router
    from ecbridge.integrations.api import router as accounts_router
    from ecbridge.integrations.stock_api import router as account_stock_router
    from ecbridge.inventory.api import products_router, receipts_router
    from ecbridge.orders.api import router as orders_router
    from ecbridge.orders.api import unknown_products_router
    from ecbridge.orders.shipping_api import router as shipping_router

    api.add_router("/sales-channels", channels_router)
    api.add_router("/ec-accounts", accounts_router)
    api.add_router("/ec-accounts", account_stock_router)
    api.add_router("/platforms", platforms_router)
    api.add_router("/api-logs", apilog_router)
    api.add_router("/orders", orders_router)
    api.add_router("/orders", shipping_router)
    api.add_router("/unknown-products", unknown_products_router)
    api.add_router("/products", products_router)
    api.add_router("/inbound-receipts", receipts_router)


_add_routers()
