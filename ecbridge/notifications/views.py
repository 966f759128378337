from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from ecbridge.notifications.models import Notification


@login_required
def notification_list(request):
    qs = Notification.objects.for_user(request.user, request.current_merchant)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    unread_ids = set(
        Notification.objects.unread_for(request.user)
        .filter(pk__in=[n.pk for n in page])
        .values_list("pk", flat=True)
    )
    return render(request, "notifications/list.html", {"page": page, "unread_ids": unread_ids})


@login_required
def dropdown(request):
    items = list(Notification.objects.for_user(request.user)[:8])
    unread_ids = set(Notification.objects.unread_for(request.user).values_list("pk", flat=True)[:100])
    return render(request, "notifications/_dropdown.html", {"items": items, "unread_ids": unread_ids})


@login_required
@require_POST
def mark_all_read(request):
    for notification in Notification.objects.unread_for(request.user):
        notification.read_by.add(request.user)
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "notifications:list"
    return redirect(target)
