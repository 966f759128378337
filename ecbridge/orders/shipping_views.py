"""Shipping actions on the order page: mark shipped, retry a failed shipment report. Thin: the
rules live in orders.services.shipping and integrations.services.shipment_report."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ecbridge.integrations.models import ShipmentReport
from ecbridge.integrations.services import shipment_report
from ecbridge.orders.forms import ShipForm
from ecbridge.orders.models import Order
from ecbridge.orders.services import shipping
from ecbridge.orders.views import _safe_next, order_or_404


def _back(request, order: Order):
    return redirect(_safe_next(request, reverse("orders:detail", args=[order.pk])))


@login_required
@require_POST
def ship(request, pk):
    order = order_or_404(request, pk)
    form = ShipForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(request, order)
    try:
        report = shipping.mark_shipped(
            order,
            carrier=form.cleaned_data["carrier"],
            tracking_number=form.cleaned_data["tracking_number"],
            user=request.user,
        )
    except shipping.ShippingError as exc:
        messages.error(request, str(exc))
        return _back(request, order)
    if report is None:
        messages.success(request, _("Order %(number)s marked as shipped.") % {"number": order.order_number})
    else:
        messages.success(
            request,
            _("Order %(number)s marked as shipped; the shipment is being reported to the platform.")
            % {"number": order.order_number},
        )
    return _back(request, order)


@login_required
@require_POST
def retry_report(request, pk, report_id):
    order = order_or_404(request, pk)
    report = get_object_or_404(ShipmentReport.objects.filter(order=order), pk=report_id)
    if shipment_report.retry(report, user=request.user):
        messages.success(request, _("The shipment report will be sent again."))
    else:
        messages.info(request, _("Only a failed shipment report can be retried."))
    return _back(request, order)
