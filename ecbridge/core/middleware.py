"""Input no database can store is refused at the door: a NUL character (PostgreSQL refuses it in
any text, SQLite keeps it and truncates it later) in a query parameter, a form field or a JSON
body is a 400 with a clear answer, before any view runs. Platform webhooks are not checked here:
their bodies are verified and stored as they came."""

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

EXEMPT_PREFIXES = ("/webhooks/",)


def _texts(query_dict):
    for key, values in query_dict.lists():
        yield key
        yield from values


def _has_nul(request) -> bool:
    if any("\x00" in text for text in _texts(request.GET)):
        return True
    content_type = request.content_type or ""
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return any("\x00" in text for text in _texts(request.POST))
        if content_type.endswith("json"):
            return b"\\u0000" in request.body or b"\x00" in request.body
    return False


class RejectNulCharacters:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(EXEMPT_PREFIXES) and _has_nul(request):
            message = _("The input contains a NUL character, which cannot be stored: remove it.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)
