"""Shipping actions on the order page: mark shipped, retry a failed shipment report. Thin: the
rules live in orders.services.shipping and integrations.services.shipment_report."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ecbridge.integrations.models import ShipmentReport
from ecbridge.integrations.services import shipment_report
from ecbridge.orders.models import Order
from ecbridge.orders.services import shipping


class ShipForm(forms.Form):
    carrier = forms.CharField(label=gettext_lazy("Carrier"), max_length=shipping.MAX_LENGTH, required=False)
    tracking_number = forms.CharField(
        label=gettext_lazy("Tracking number"), max_length=shipping.MAX_LENGTH, required=False
    )


def order_or_404(request, pk) -> Order:
    """Another merchant's order is a 404: its existence does not leak."""
    return get_object_or_404(Order.objects.for_user(request.user).select_related("ec_account"), pk=pk)


def _back(request, order: Order):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    try:
        return redirect(reverse("orders:detail", args=[order.pk]))
    except NoReverseMatch:  # the order pages are not mounted yet
        return redirect("/")


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
