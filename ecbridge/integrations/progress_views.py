"""The progress fragment a page polls while background work runs (see the progress_badge tag)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from ecbridge.integrations.services import progress
from ecbridge.integrations.templatetags.integrations_tags import progress_badge


@login_required
def progress_fragment(request, kind, pk):
    if kind not in progress.KINDS:
        raise Http404
    model, _measure = progress.KINDS[kind]
    work = get_object_or_404(model.objects.for_user(request.user), pk=pk)  # another merchant's: 404
    context = progress_badge(
        work, dom_id=(request.GET.get("id") or "")[:80], badge_class=(request.GET.get("class") or "")[:80]
    )
    response = render(request, "integrations/_progress.html", context)
    if context["progress"].finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # once: the page shows the final rows, and stops polling
    return response
