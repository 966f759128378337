"""Marking an order shipped: the outbox row in the same transaction, the rules, and the page."""

import pytest
from django.db import transaction
from django.template.loader import render_to_string
from django.test import RequestFactory

from ecbridge.integrations.models import ShipmentReport, ShipmentReportAttempt
from ecbridge.integrations.services import shipment_report
from ecbridge.orders.models import Hold, Order
from ecbridge.orders.services import shipping
from ecbridge.orders.services.holds import place_hold
from tests.orders.shipping_helpers import done, install_fake, make_account, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    ids = []
    monkeypatch.setattr(shipment_report, "enqueue", ids.append)
    return ids


@pytest.fixture
def account(merchant):
    return make_account(merchant, platform="momo")


@pytest.fixture
def order(account):
    return make_order(account)


# --- the service ----------------------------------------------------------------------------------
def test_mark_shipped_updates_order_and_writes_report_then_enqueues_after_commit(
    order, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = shipping.mark_shipped(order, carrier=" T-Cat ", tracking_number=" 900100200300 ")
        assert enqueued == []  # nothing is queued before the commit
    assert len(callbacks) == 1
    assert enqueued == [report.pk]
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert (order.carrier, order.tracking_number) == ("T-Cat", "900100200300")
    assert order.shipped_at is not None
    assert report.status == ShipmentReport.Status.PENDING
    assert (report.carrier, report.tracking_number, report.package_key) == ("T-Cat", "900100200300", "")
    assert report.ec_account_id == order.ec_account_id


def test_exception_after_shipping_rolls_back_order_and_report(
    order, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                shipping.mark_shipped(order, carrier="T-Cat", tracking_number="1")
                raise RuntimeError("the caller fails after shipping")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert order.tracking_number == "" and order.shipped_at is None
    assert not ShipmentReport.objects.exists()
    assert enqueued == []


def test_report_creation_failure_leaves_order_unshipped(order, enqueued, monkeypatch):
    def boom(*a, **kw):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ShipmentReport.objects, "create", boom)
    with pytest.raises(RuntimeError):
        shipping.mark_shipped(order, carrier="T-Cat", tracking_number="1")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING and order.tracking_number == ""


def test_on_hold_order_is_refused_even_when_the_caller_holds_a_stale_copy(order, enqueued):
    stale = Order.objects.get(pk=order.pk)
    place_hold(order, Hold.Reason.UNKNOWN_PRODUCT)
    assert stale.on_hold is False
    with pytest.raises(shipping.ShippingError, match="on hold"):
        shipping.mark_shipped(stale, carrier="T-Cat", tracking_number="1")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not ShipmentReport.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [{"status": Order.Status.CANCELLED}, {"platform_state": Order.PlatformState.CANCELLED}],
)
def test_cancelled_order_is_refused(account, enqueued, changes):
    order = make_order(account, **changes)
    with pytest.raises(shipping.ShippingError, match="cancelled"):
        shipping.mark_shipped(order, carrier="T-Cat", tracking_number="1")
    assert not ShipmentReport.objects.exists()


def test_second_ship_is_rejected_and_never_a_second_report(order, enqueued):
    shipping.mark_shipped(order, carrier="T-Cat", tracking_number="1")
    with pytest.raises(shipping.ShippingError, match="already shipped"):
        shipping.mark_shipped(order, carrier="HCT", tracking_number="2")
    assert ShipmentReport.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert (order.carrier, order.tracking_number) == ("T-Cat", "1")


def test_existing_report_for_the_package_blocks_shipping(order, enqueued):
    ShipmentReport.objects.create(order=order, ec_account=order.ec_account, package_key="")
    with pytest.raises(shipping.ShippingError, match="already shipped"):
        shipping.mark_shipped(order, carrier="T-Cat", tracking_number="1")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert ShipmentReport.objects.count() == 1


@pytest.mark.parametrize(
    ("carrier", "tracking", "message"),
    [
        ("T-Cat", "", "tracking number"),
        ("", "123", "carrier"),
        ("T-Cat", "9" * 121, "at most"),
        ("C" * 121, "1", "at most"),
    ],
)
def test_bad_input_is_refused_with_nothing_written(order, enqueued, carrier, tracking, message):
    with pytest.raises(shipping.ShippingError, match=message):
        shipping.mark_shipped(order, carrier=carrier, tracking_number=tracking)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not ShipmentReport.objects.exists()


def test_shopee_may_ship_without_tracking_number_the_platform_issues_it(merchant, enqueued):
    order = make_order(make_account(merchant, platform="shopee"))
    report = shipping.mark_shipped(order, carrier="", tracking_number="")
    assert report.tracking_number == ""
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_tracking_optional_platforms_are_a_setting(merchant, enqueued, settings):
    settings.SHIPMENT_TRACKING_OPTIONAL_PLATFORMS = ()
    order = make_order(make_account(merchant, platform="shopee"))
    with pytest.raises(shipping.ShippingError):
        shipping.mark_shipped(order, carrier="", tracking_number="")


def test_committed_shipment_runs_the_report_job_through_huey(
    order, monkeypatch, django_capture_on_commit_callbacks
):
    from huey.contrib.djhuey import HUEY

    fake = install_fake(monkeypatch, [done()])
    monkeypatch.setattr(HUEY, "immediate", True)
    with django_capture_on_commit_callbacks(execute=True):
        report = shipping.mark_shipped(order, carrier="T-Cat", tracking_number="777")
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.DONE
    assert [(m, r.tracking_number, r.carrier) for m, r in fake.calls] == [("report_shipment", "777", "T-Cat")]


# --- the page -------------------------------------------------------------------------------------
def test_ship_page_action_ships_and_reports(
    merchant_client, order, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(
            f"/orders/{order.pk}/ship/", {"carrier": "T-Cat", "tracking_number": "123"}, follow=False
        )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert enqueued == [ShipmentReport.objects.get(order=order).pk]


def test_ship_page_on_hold_shows_error_and_writes_nothing(merchant_client, order, enqueued):
    place_hold(order, Hold.Reason.UNKNOWN_PRODUCT)
    response = merchant_client.post(f"/orders/{order.pk}/ship/", {"carrier": "T-Cat", "tracking_number": "1"})
    assert response.status_code == 302
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("on hold" in m for m in messages)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not ShipmentReport.objects.exists()


def test_ship_page_rejects_too_long_input(merchant_client, order, enqueued):
    response = merchant_client.post(
        f"/orders/{order.pk}/ship/", {"carrier": "T", "tracking_number": "9" * 200}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_ship_page_foreign_order_is_404(other_merchant_client, order, enqueued):
    response = other_merchant_client.post(
        f"/orders/{order.pk}/ship/", {"carrier": "T", "tracking_number": "1"}
    )
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_ship_page_needs_login_and_post(client, merchant_client, order):
    assert (
        client.post(f"/orders/{order.pk}/ship/", {"carrier": "T", "tracking_number": "1"}).status_code == 302
    )
    assert merchant_client.get(f"/orders/{order.pk}/ship/").status_code == 405
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_retry_now_resets_failed_report_and_enqueues(
    merchant_client, order, enqueued, django_capture_on_commit_callbacks
):
    report = ShipmentReport.objects.create(
        order=order, ec_account=order.ec_account, status=ShipmentReport.Status.FAILED, attempts=8
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(f"/orders/{order.pk}/shipment-reports/{report.pk}/retry/")
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.PENDING
    assert enqueued == [report.pk]
    assert ShipmentReportAttempt.objects.filter(report=report, outcome="manual_retry").exists()


def test_retry_now_is_scoped_and_only_for_failed(
    merchant_client, other_merchant_client, account, order, enqueued
):
    report = ShipmentReport.objects.create(order=order, ec_account=account, status=ShipmentReport.Status.DONE)
    other_order = make_order(account)
    # foreign merchant: 404; report of another order: 404
    assert (
        other_merchant_client.post(f"/orders/{order.pk}/shipment-reports/{report.pk}/retry/").status_code
        == 404
    )
    assert (
        merchant_client.post(f"/orders/{other_order.pk}/shipment-reports/{report.pk}/retry/").status_code
        == 404
    )
    merchant_client.post(f"/orders/{order.pk}/shipment-reports/{report.pk}/retry/")
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.DONE
    assert enqueued == []


def _render(order, user):
    request = RequestFactory().get("/")
    request.user = user
    return render_to_string("orders/_shipping.html", {"order": order}, request=request)


def test_block_shows_ship_form_only_for_pending_unheld_orders(merchant_user, account):
    pending = make_order(account)
    assert 'id="ship-form"' in _render(pending, merchant_user)
    held = make_order(account)
    place_hold(held, Hold.Reason.UNKNOWN_PRODUCT)
    html = _render(held, merchant_user)
    assert 'id="ship-form"' not in html and 'id="ship-blocked"' in html
    cancelled = make_order(account, status=Order.Status.CANCELLED)
    assert 'id="ship-form"' not in _render(cancelled, merchant_user)


def test_block_shows_shipment_reports_with_attempts_and_retry(merchant_user, order, enqueued):
    report = shipping.mark_shipped(order, carrier="T-Cat", tracking_number="TN-42")
    ShipmentReport.objects.filter(pk=report.pk).update(
        status=ShipmentReport.Status.FAILED, attempts=3, last_error="Order already cancelled by buyer"
    )
    ShipmentReportAttempt.objects.create(
        report=report, outcome="refused", message="Order already cancelled by buyer"
    )
    order.refresh_from_db()
    html = _render(order, merchant_user)
    assert "TN-42" in html and "T-Cat" in html
    assert 'id="ship-form"' not in html
    assert "Order already cancelled by buyer" in html
    assert 'class="report-attempts">3<' in html
    assert "retry-button" in html
    assert f"/orders/{order.pk}/shipment-reports/{report.pk}/retry/" in html


def test_order_page_flow_ship_then_see_the_report(
    merchant_client, order, enqueued, django_capture_on_commit_callbacks
):
    page = merchant_client.get(f"/orders/{order.pk}/")
    assert page.status_code == 200
    assert 'id="ship-form"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(
            f"/orders/{order.pk}/ship/", {"carrier": "T-Cat", "tracking_number": "TN-9"}
        )
    assert response.status_code == 302 and response.url == f"/orders/{order.pk}/"
    page = merchant_client.get(response.url)
    html = page.content.decode()
    assert 'id="ship-form"' not in html
    assert "TN-9" in html and "shipment-report-" in html
    assert "the shipment is being reported to the platform" in html  # the flash message


def test_momo_convenience_store_orders_get_their_number_from_momo(account, enqueued):
    cvs = make_order(account, shipment_refs={"delivery": "stores", "complete_order_nos": ["1-001"]})
    assert shipping.mark_shipped(cvs, carrier="", tracking_number="") is not None
    home = make_order(account, shipment_refs={"delivery": "company", "complete_order_nos": ["2-001"]})
    with pytest.raises(shipping.ShippingError, match="tracking number"):
        shipping.mark_shipped(home, carrier="T-Cat", tracking_number="")


def test_shopee_form_says_the_platform_issues_the_number_and_the_page_shows_the_swap(
    merchant, merchant_user, enqueued, monkeypatch
):
    """A typed number that the platform replaces is never swapped silently: the form warns before,
    the order page and the attempt log say so after."""
    from django.test import Client

    client = Client()
    client.force_login(merchant_user)
    shopee = make_order(make_account(merchant, platform="shopee"))
    momo = make_order(make_account(merchant, platform="momo"))
    assert 'id="platform-issues-tracking"' in client.get(f"/orders/{shopee.pk}/").content.decode()
    assert 'id="platform-issues-tracking"' not in client.get(f"/orders/{momo.pk}/").content.decode()

    install_fake(monkeypatch, [done(number="SPX-1", carrier="Shopee Xpress")])
    report = shipping.mark_shipped(shopee, carrier="T-Cat", tracking_number="T-999")
    shipment_report.report(report.pk)
    shopee.refresh_from_db()
    assert shopee.tracking_number == "SPX-1"
    page = client.get(f"/orders/{shopee.pk}/").content.decode()
    assert 'id="tracking-replaced"' in page and "T-999" in page and "SPX-1" in page
    assert (
        "replaced the typed T-999" in ShipmentReportAttempt.objects.get(report=report, outcome="done").message
    )
