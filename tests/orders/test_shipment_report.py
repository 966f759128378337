"""The shipment-report job: outcomes, retries with backoff, tracking polls, at most once, sweep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ecbridge.core.leases import lease
from ecbridge.integrations.models import ConnectionStatus, ShipmentReport
from ecbridge.integrations.services import shipment_report
from ecbridge.notifications.models import Notification
from ecbridge.orders.models import Order
from ecbridge.orders.services import shipping
from ecbridge.platforms.base import ShipmentOutcome, ShipmentResult
from ecbridge.platforms.errors import AuthError, PlatformError, RateLimited, TransientError
from tests.orders.shipping_helpers import awaiting, done, install_fake, make_account, make_order

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
def report(account, enqueued):
    order = make_order(account)
    return shipping.mark_shipped(order, carrier="T-Cat", tracking_number="900100")


def _seconds_until(moment):
    return (moment - timezone.now()).total_seconds()


def test_done_sends_the_order_and_records_the_attempt(monkeypatch, report):
    fake = install_fake(monkeypatch, [done()])
    assert shipment_report.report(report.pk) == "done"
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.DONE
    assert report.done_at is not None and report.next_attempt_at is None
    assert report.attempts == 1
    assert list(report.attempt_log.values_list("outcome", flat=True)) == ["done"]
    [(method, request)] = fake.calls
    order = report.order
    assert method == "report_shipment"
    assert request.platform_order_id == order.platform_order_id
    assert (request.carrier, request.tracking_number, request.shipping_code) == ("T-Cat", "900100", "30001")
    assert request.shipment_refs == order.shipment_refs
    assert [(line.sku, line.quantity) for line in request.lines] == [("SKU-1", 2)]


def test_a_done_report_is_never_sent_again(monkeypatch, report):
    fake = install_fake(monkeypatch, [done(), done()])
    shipment_report.report(report.pk)
    assert shipment_report.report(report.pk) == "done"
    assert len(fake.calls) == 1


def test_already_shipped_counts_as_done(monkeypatch, report):
    install_fake(monkeypatch, [done(already=True)])
    assert shipment_report.report(report.pk) == "already_shipped"
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.DONE
    assert not Notification.objects.exists()


def test_platform_issued_number_and_carrier_go_on_the_order(monkeypatch, merchant, enqueued):
    order = make_order(make_account(merchant, platform="shopee"))
    report = shipping.mark_shipped(order, carrier="", tracking_number="")
    install_fake(monkeypatch, [done(number="TW2468", carrier="黑貓宅急便")])
    shipment_report.report(report.pk)
    order.refresh_from_db()
    report.refresh_from_db()
    assert (order.tracking_number, order.carrier) == ("TW2468", "黑貓宅急便")
    assert report.platform_tracking_number == "TW2468"


def test_awaiting_tracking_then_polls_until_the_number_arrives(monkeypatch, merchant, enqueued):
    order = make_order(make_account(merchant, platform="shopee"))
    report = shipping.mark_shipped(order, carrier="", tracking_number="")
    fake = install_fake(
        monkeypatch,
        [awaiting(), ShipmentResult(ShipmentOutcome.AWAITING_TRACKING), done(number="SPX123", carrier="SPX")],
    )
    assert shipment_report.report(report.pk) == "awaiting_tracking"
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.AWAITING_TRACKING
    assert 290 <= _seconds_until(report.next_attempt_at) <= 300

    assert shipment_report.report(report.pk) == "tracking_pending"  # polled, no number yet
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.AWAITING_TRACKING
    assert 590 <= _seconds_until(report.next_attempt_at) <= 600  # polls back off

    assert shipment_report.report(report.pk) == "done"
    report.refresh_from_db()
    order.refresh_from_db()
    assert report.status == ShipmentReport.Status.DONE
    assert order.tracking_number == "SPX123" and order.carrier == "SPX"
    assert [m for m, _ in fake.calls] == ["report_shipment", "fetch_tracking", "fetch_tracking"]


def test_a_poll_answering_done_without_number_keeps_waiting(monkeypatch, merchant, enqueued):
    order = make_order(make_account(merchant, platform="shopee"))
    report = shipping.mark_shipped(order, carrier="", tracking_number="")
    install_fake(monkeypatch, [awaiting(), done(number="")])
    shipment_report.report(report.pk)
    assert shipment_report.report(report.pk) == "tracking_pending"
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.AWAITING_TRACKING


def test_waiting_too_long_for_the_number_fails_with_a_notification(monkeypatch, report, settings):
    settings.SHIPMENT_TRACKING_MAX_WAIT_HOURS = 1
    install_fake(monkeypatch, [awaiting(), awaiting()])
    shipment_report.report(report.pk)
    report.attempt_log.update(at=timezone.now() - timedelta(hours=2))
    assert shipment_report.report(report.pk) == "gave_up"
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.FAILED
    assert Notification.objects.filter(kind="shipment_report_failed").count() == 1


def test_transient_errors_back_off_exponentially_then_fail(monkeypatch, report, settings):
    settings.SHIPMENT_REPORT_MAX_ATTEMPTS = 3
    settings.SHIPMENT_REPORT_BACKOFF_SECONDS = 60
    install_fake(
        monkeypatch, [TransientError("HTTP 502"), TransientError("timeout"), TransientError("HTTP 503")]
    )

    assert shipment_report.report(report.pk) == "retry"
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.PENDING and report.attempts == 1
    assert 55 <= _seconds_until(report.next_attempt_at) <= 60
    assert "502" in report.last_error

    shipment_report.report(report.pk)
    report.refresh_from_db()
    assert report.attempts == 2
    assert 115 <= _seconds_until(report.next_attempt_at) <= 120
    assert not Notification.objects.exists()

    assert shipment_report.report(report.pk) == "gave_up"
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.FAILED and report.attempts == 3
    assert report.next_attempt_at is None
    note = Notification.objects.get(kind="shipment_report_failed")
    assert note.merchant_id == report.order.merchant_id and report.order.order_number in note.title
    assert "503" in note.body


def test_backoff_is_capped(settings):
    settings.SHIPMENT_REPORT_BACKOFF_SECONDS = 60
    settings.SHIPMENT_REPORT_MAX_BACKOFF_SECONDS = 600
    assert [shipment_report.backoff_seconds(n) for n in (1, 2, 3, 4, 5, 9)] == [60, 120, 240, 480, 600, 600]


def test_throttled_honours_retry_after(monkeypatch, report):
    install_fake(monkeypatch, [RateLimited("too many requests", retry_after=900)])
    assert shipment_report.report(report.pk) == "throttled"
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.PENDING
    assert 890 <= _seconds_until(report.next_attempt_at) <= 900


def test_throttled_without_retry_after_uses_backoff(monkeypatch, report):
    install_fake(monkeypatch, [RateLimited("slow down")])
    shipment_report.report(report.pk)
    report.refresh_from_db()
    assert 55 <= _seconds_until(report.next_attempt_at) <= 60


def test_business_refusal_fails_with_the_platform_message(monkeypatch, report):
    install_fake(monkeypatch, [PlatformError("order already cancelled by buyer", code="logistics.error")])
    assert shipment_report.report(report.pk) == "refused"
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.FAILED
    assert "order already cancelled by buyer" in report.last_error
    note = Notification.objects.get(kind="shipment_report_failed")
    assert "order already cancelled by buyer" in note.body and note.level == "error"


def test_auth_error_disconnects_and_the_report_resumes_after_reconnect(monkeypatch, report, enqueued):
    account = report.ec_account
    fake = install_fake(monkeypatch, [AuthError("invalid password"), done()])
    assert shipment_report.report(report.pk) == "auth_error"
    account.refresh_from_db()
    report.refresh_from_db()
    assert account.status == ConnectionStatus.DISCONNECTED
    assert report.status == ShipmentReport.Status.PENDING and report.attempts == 0
    assert Notification.objects.filter(kind="disconnected").exists()

    assert shipment_report.sweep(timezone.now() + timedelta(minutes=5)) == []  # not while disconnected
    assert shipment_report.report(report.pk) == "skipped"
    assert len(fake.calls) == 1

    account.status = ConnectionStatus.CONNECTED
    account.save(update_fields=["status"])
    assert shipment_report.sweep(timezone.now() + timedelta(seconds=1)) == [report.pk]
    assert shipment_report.report(report.pk) == "done"


def test_two_concurrent_jobs_make_one_platform_call(monkeypatch, report):
    fake = install_fake(monkeypatch, [done(), done()])
    inner = []

    def second_job_starts(method, request):
        fake.on_call = None
        inner.append(shipment_report.report(report.pk))  # a second worker while the first is mid-call

    fake.on_call = second_job_starts
    assert shipment_report.report(report.pk) == "done"
    assert inner == ["busy"]
    assert len(fake.calls) == 1
    assert shipment_report.report(report.pk) == "done"  # and afterwards it is DONE: no call
    assert len(fake.calls) == 1


def test_a_held_lease_skips_the_job(monkeypatch, report):
    fake = install_fake(monkeypatch, [done()])
    with lease(f"shipment-report:{report.pk}", ttl=60) as held:
        assert held
        assert shipment_report.report(report.pk) == "busy"
    assert fake.calls == []


def test_failed_report_is_not_sent_until_retried(monkeypatch, report, enqueued):
    fake = install_fake(monkeypatch, [PlatformError("refused"), done()])
    shipment_report.report(report.pk)
    assert shipment_report.report(report.pk) == "failed"
    assert len(fake.calls) == 1
    report.refresh_from_db()
    assert shipment_report.retry(report)
    assert shipment_report.report(report.pk) == "done"
    assert not shipment_report.retry(report)  # DONE cannot be retried


def test_retry_now_starts_the_failure_count_over(monkeypatch, report, settings, enqueued):
    settings.SHIPMENT_REPORT_MAX_ATTEMPTS = 2
    install_fake(monkeypatch, [TransientError("502"), TransientError("502"), TransientError("502")])
    shipment_report.report(report.pk)
    shipment_report.report(report.pk)
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.FAILED
    shipment_report.retry(report)
    assert shipment_report.report(report.pk) == "retry"  # one failure since the retry, not three
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.PENDING


def test_missing_report_is_harmless():
    assert shipment_report.report(999999) == "missing"


# --- the sweep ------------------------------------------------------------------------------------
def test_sweep_reenqueues_due_and_stale_rows_only(merchant, enqueued, settings):
    connected = make_account(merchant)
    disconnected = make_account(merchant, status=ConnectionStatus.DISCONNECTED)
    now = timezone.now()

    def row(account, **fields):
        r = ShipmentReport.objects.create(order=make_order(account), ec_account=account)
        ShipmentReport.objects.filter(pk=r.pk).update(**fields)
        return r.pk

    stale = row(connected, created_at=now - timedelta(minutes=2))  # enqueue lost after commit
    fresh = row(connected)  # just written: its own enqueue is on the way
    due = row(connected, next_attempt_at=now - timedelta(seconds=1))
    polling = row(
        connected, status=ShipmentReport.Status.AWAITING_TRACKING, next_attempt_at=now - timedelta(seconds=1)
    )
    later = row(connected, next_attempt_at=now + timedelta(minutes=5))
    row(connected, status=ShipmentReport.Status.DONE, next_attempt_at=now - timedelta(minutes=1))
    row(connected, status=ShipmentReport.Status.FAILED, created_at=now - timedelta(minutes=5))
    row(disconnected, next_attempt_at=now - timedelta(minutes=1))
    row(disconnected, created_at=now - timedelta(minutes=5))

    assert sorted(shipment_report.sweep(now)) == sorted([stale, due, polling])
    assert sorted(enqueued) == sorted([stale, due, polling])
    assert fresh not in enqueued and later not in enqueued
    # A second tick does not enqueue them again while their job may still be running...
    assert shipment_report.sweep(now + timedelta(minutes=1)) == []
    # ...but once the lease time has passed without a result, they come due again.
    assert sorted(shipment_report.sweep(now + timedelta(minutes=11))) == sorted(
        [stale, due, polling, fresh, later]
    )


def test_enqueue_failure_is_swallowed_for_the_sweep(monkeypatch):
    from ecbridge.orders import tasks

    def down(report_id):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks, "report_shipment_task", down)
    shipment_report.enqueue(1)  # logged, not raised


def test_sweep_is_a_periodic_task_every_minute():
    import datetime as dt

    from huey.contrib.djhuey import HUEY

    names = {task.name for task in HUEY.read_periodic(dt.datetime(2026, 1, 1, 3, 7))}
    assert any(name.endswith("sweep_shipment_reports") for name in names)


def test_sweep_task_runs_the_service(monkeypatch, report):
    from ecbridge.orders import tasks

    ShipmentReport.objects.filter(pk=report.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert tasks.sweep_shipment_reports.call_local() == 1


def test_report_task_runs_the_service(monkeypatch, report):
    from ecbridge.orders import tasks

    install_fake(monkeypatch, [done()])
    assert tasks.report_shipment_task.call_local(report.pk) == "done"
    assert Order.objects.get(pk=report.order_id).status == Order.Status.SHIPPED


# --- end to end through the in-process sandbox ------------------------------------------------------
def _connected(merchant, operator, sandbox_client, platform):
    from ecbridge.core.demo_consent import approve
    from ecbridge.integrations.models import ECAccount
    from ecbridge.integrations.services import connection, lifecycle
    from tests.factories import SalesChannelFactory

    shop = sandbox_client.post(
        f"/sandbox/{platform}/_console/shops", json={"name": f"Acme {platform}"}
    ).json()
    creds = {"shop_domain": shop["id"]} if platform == "shopify" else shop.get("credentials") or {}
    account = ECAccount(
        merchant=merchant,
        platform=platform,
        display_name=f"Acme {platform}",
        sales_channel=SalesChannelFactory(merchant=merchant),
    )
    account = lifecycle.save_account(account, credentials=creds).account
    if platform == "momo":
        assert connection.test_account(account).ok
    else:
        choose = {"shop_id": str(shop["id"])} if platform == "shopee" else None
        params = approve(sandbox_client, lifecycle.authorize_url(account, operator), choose=choose)
        ok, message = lifecycle.complete_authorization(account, params)
        assert ok, message
    account.refresh_from_db()
    assert account.status == ConnectionStatus.CONNECTED
    sandbox_client.post(
        f"/sandbox/{platform}/_console/products", json={"shop": shop["id"], "sku": "TEA-1", "name": "Tea"}
    )
    return account, shop["id"]


def _place(sandbox_client, platform, shop, **extra):
    body = {"shop": shop, "lines": [{"sku": "TEA-1", "quantity": 2}], **extra}
    response = sandbox_client.post(f"/sandbox/{platform}/_console/orders", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    return str(data.get("order_sn") or data.get("order_no") or data["id"])


def _state(sandbox_client, platform, shop):
    return sandbox_client.get(f"/sandbox/{platform}/_console/state", params={"shop": shop}).json()


def _faults(sandbox_client, platform, **faults):
    response = sandbox_client.post(f"/sandbox/{platform}/_console/faults", json=faults)
    assert response.status_code == 200, response.text


def test_e2e_shopee_arranges_shipment_and_reads_back_the_issued_number(
    merchant, operator, sandbox_client, enqueued
):
    from tests.orders.shipping_helpers import import_from_platform

    account, shop = _connected(merchant, operator, sandbox_client, "shopee")
    sandbox_client.post("/sandbox/shopee/_console/settings", json={"tracking_polls": 1})
    order_sn = _place(sandbox_client, "shopee", shop, shipping_code="30005")
    order = import_from_platform(account, order_sn)
    report = shipping.mark_shipped(order, carrier="", tracking_number="")

    _faults(sandbox_client, "shopee", fail_next=20)  # every HTTP retry of this run gets a 5xx
    assert shipment_report.report(report.pk) == "retry"
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.PENDING and report.next_attempt_at > timezone.now()
    assert _state(sandbox_client, "shopee", shop)["shipments"] == []
    _faults(sandbox_client, "shopee")

    assert shipment_report.report(report.pk) == "awaiting_tracking"
    shipments = _state(sandbox_client, "shopee", shop)["shipments"]
    assert [(s["order_sn"], s["method"]) for s in shipments] == [(order_sn, "dropoff")]

    assert shipment_report.report(report.pk) == "done"
    report.refresh_from_db()
    order.refresh_from_db()
    assert report.status == ShipmentReport.Status.DONE
    assert order.tracking_number.startswith("TW") and report.platform_tracking_number == order.tracking_number
    [sandbox_order] = [
        o for o in _state(sandbox_client, "shopee", shop)["orders"] if o["order_sn"] == order_sn
    ]
    assert sandbox_order["order_status"] == "SHIPPED"
    # Sent once: a stray job after DONE does not arrange the shipment again.
    assert shipment_report.report(report.pk) == "done"
    assert len(_state(sandbox_client, "shopee", shop)["shipments"]) == 1


def test_e2e_shopify_fulfillment_with_tracking(merchant, operator, sandbox_client, enqueued):
    from tests.orders.shipping_helpers import import_from_platform

    account, shop = _connected(merchant, operator, sandbox_client, "shopify")
    order_id = _place(sandbox_client, "shopify", shop)
    order = import_from_platform(account, order_id)
    report = shipping.mark_shipped(order, carrier="Black Cat", tracking_number="900123456789")

    _faults(sandbox_client, "shopify", throttle_next=20)
    assert shipment_report.report(report.pk) == "throttled"
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.PENDING and report.next_attempt_at > timezone.now()
    _faults(sandbox_client, "shopify")

    assert shipment_report.report(report.pk) == "done"
    [shipment] = _state(sandbox_client, "shopify", shop)["shipments"]
    assert shipment["order_id"] == order.platform_order_id
    assert (shipment["tracking_company"], shipment["tracking_number"]) == ("Black Cat", "900123456789")
    assert [line["quantity"] for line in shipment["lines"]] == [2]

    # A lost answer: the report is sent again; Shopify has nothing left to fulfil → already shipped.
    ShipmentReport.objects.filter(pk=report.pk).update(status=ShipmentReport.Status.PENDING)
    assert shipment_report.report(report.pk) == "already_shipped"
    assert len(_state(sandbox_client, "shopify", shop)["shipments"]) == 1


def test_e2e_momo_home_delivery_confirmation(merchant, operator, sandbox_client, enqueued):
    from tests.orders.shipping_helpers import import_from_platform

    account, shop = _connected(merchant, operator, sandbox_client, "momo")
    order_no = _place(sandbox_client, "momo", shop)
    order = import_from_platform(account, order_no)
    report = shipping.mark_shipped(order, carrier="黑貓宅急便", tracking_number="123456789012")

    _faults(sandbox_client, "momo", fail_next=20)  # 5xx before momo does anything
    assert shipment_report.report(report.pk) == "retry"
    assert _state(sandbox_client, "momo", shop)["shipments"] == []
    _faults(sandbox_client, "momo")

    assert shipment_report.report(report.pk) == "done"
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.DONE
    shipments = _state(sandbox_client, "momo", shop)["shipments"]
    assert len(shipments) == 1
    assert "123456789012" in str(shipments[0])


def test_e2e_momo_lost_answer_is_retried_and_counts_as_already_shipped(
    merchant, operator, sandbox_client, enqueued
):
    from tests.orders.shipping_helpers import import_from_platform

    account, shop = _connected(merchant, operator, sandbox_client, "momo")
    order = import_from_platform(account, _place(sandbox_client, "momo", shop))
    report = shipping.mark_shipped(order, carrier="黑貓宅急便", tracking_number="123456789012")

    _faults(sandbox_client, "momo", malformed_next=20)  # momo confirms, but every answer is garbled
    assert shipment_report.report(report.pk) == "retry"
    _faults(sandbox_client, "momo")

    assert shipment_report.report(report.pk) == "already_shipped"
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.DONE
    assert len(_state(sandbox_client, "momo", shop)["shipments"]) == 1
    assert not Notification.objects.filter(kind="shipment_report_failed").exists()


def test_e2e_expired_token_mid_report_is_refreshed_and_the_report_goes_through(
    merchant, operator, sandbox_client, enqueued
):
    from tests.orders.shipping_helpers import import_from_platform

    account, shop = _connected(merchant, operator, sandbox_client, "shopee")
    order = import_from_platform(account, _place(sandbox_client, "shopee", shop, shipping_code="30005"))
    report = shipping.mark_shipped(order, carrier="", tracking_number="")
    old_token = account.tokens["access_token"]
    _faults(sandbox_client, "shopee", expire_tokens=True)

    assert shipment_report.report(report.pk) == "done"  # tracking_polls 0: the number comes at once
    account.refresh_from_db()
    assert account.status == ConnectionStatus.CONNECTED
    assert account.tokens["access_token"] != old_token
    assert len(_state(sandbox_client, "shopee", shop)["shipments"]) == 1
    assert old_token not in "".join(report.attempt_log.values_list("message", flat=True))
