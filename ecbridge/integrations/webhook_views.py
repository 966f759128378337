"""The webhook endpoint. Thin: verification, storage and queueing live in services.webhooks.
Always an empty body (platforms only read the status; nothing about us leaks)."""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ecbridge.integrations.services import webhooks


@csrf_exempt
@require_POST
def receive(request, platform: str):
    receipt = webhooks.receive(
        platform,
        dict(request.headers),
        request.body,
        path=request.path,
        url=request.build_absolute_uri(),
    )
    return HttpResponse(status=receipt.status_code)
