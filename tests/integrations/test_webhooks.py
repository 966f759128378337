# ruff: noqa: F811 - fixtures imported from tests.fakes are test parameters by design
"""The webhook inbox (fake platform) and Shopee end to end through the sandbox: fetch with
faults, and signed pushes delivered to our endpoint."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from ecbridge.apilog.models import ApiCall
from ecbridge.integrations import tasks
from ecbridge.integrations.models import ECAccount, FetchRun, WebhookEvent
from ecbridge.integrations.services import fetching, webhooks
from ecbridge.notifications.models import Notification
from ecbridge.orders.models import Order
from ecbridge.platforms.errors import TransientError
from tests.factories import ECAccountFactory
from tests.fakes import fake_platform, order, sign, webhook  # noqa: F401
from tests.integrations.test_connection_flows import connect_oauth, new_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def processed(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks, "process_webhook_event", lambda event_id: calls.append(event_id))
    return calls


@pytest.fixture
def account(fake_platform, merchant, channel):
    return ECAccountFactory(
        merchant=merchant,
        sales_channel=channel,
        platform="fake",
        external_shop_id="shop-1",
        fetch_orders_enabled=True,
    )


def post(client, body, headers, platform="fake"):
    return client.post(f"/webhooks/{platform}/", data=body, content_type="application/json", headers=headers)


def test_verified_delivery_is_stored_acknowledged_empty_and_queued(
    client, account, processed, django_capture_on_commit_callbacks
):
    body, headers = webhook("d-1", orders=["A1"])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, body, headers)
    assert response.status_code == 200 and response.content == b""
    event = WebhookEvent.objects.get()
    assert (event.platform, event.delivery_id, event.kind, event.order_ids) == (
        "fake",
        "d-1",
        "order",
        ["A1"],
    )
    assert event.ec_account_id == account.pk and event.status == "pending"
    assert processed == [event.pk]
    log = ApiCall.objects.get(direction="inbound")
    assert log.outcome == "success" and log.ec_account_id == account.pk and "orders/updated" in log.operation


def test_duplicate_delivery_is_acknowledged_and_not_processed_again(
    client, account, processed, django_capture_on_commit_callbacks
):
    body, headers = webhook("d-1", orders=["A1"])
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, body, headers).status_code == 200
        assert post(client, body, headers).status_code == 200
    assert WebhookEvent.objects.count() == 1 and len(processed) == 1


def test_bad_signature_is_401_and_logged_as_failure(client, account, processed):
    body, headers = webhook("d-1", orders=["A1"])
    response = post(client, body + b" ", headers)
    assert response.status_code == 401 and response.content == b""
    assert not WebhookEvent.objects.exists() and processed == []
    log = ApiCall.objects.get(direction="inbound")
    assert log.outcome == "failure" and "Signature" in log.error
    assert post(client, body, {}).status_code == 401


def test_unreadable_body_is_400(client, account, processed):
    body = b"not json"

    assert post(client, body, {"X-Fake-Signature": sign(body)}).status_code == 400
    assert not WebhookEvent.objects.exists()


def test_get_and_unknown_platforms_are_refused(client, account):
    assert client.get("/webhooks/fake/").status_code == 405
    assert post(client, b"{}", {}, platform="nope").status_code == 404
    assert post(client, b"{}", {}, platform="momo").status_code in (401, 404)


def test_order_event_fetches_the_orders_and_imports_them(account, fake_platform):
    fake_platform.add(order("A1"))
    event = WebhookEvent.objects.create(
        platform="fake", delivery_id="d", kind="order", shop_id="shop-1", order_ids=["A1"]
    )
    webhooks.process_event(event.pk)
    event.refresh_from_db()
    assert event.status == "processed" and event.attempts == 1 and event.processed_at
    assert fake_platform.get_calls == [["A1"]]
    assert Order.objects.filter(ec_account=account, platform_order_id="A1").count() == 1
    # processing again (a redelivered job) changes nothing
    webhooks.process_event(event.pk)
    assert fake_platform.get_calls == [["A1"]] and Order.objects.count() == 1


def test_webhook_and_fetch_never_duplicate(account, fake_platform):
    fake_platform.add(order("A1"))
    event = WebhookEvent.objects.create(
        platform="fake", delivery_id="d", kind="order", shop_id="shop-1", order_ids=["A1"]
    )
    webhooks.process_event(event.pk)
    fetching.run_fetch(account.pk)
    assert Order.objects.filter(platform_order_id="A1").count() == 1


def test_webhook_is_processed_even_while_a_fetch_holds_the_lease(account, fake_platform):
    from ecbridge.core import leases

    leases.acquire(fetching.lease_key(account.pk), 600, "running-fetch")
    fake_platform.add(order("A1"))
    event = WebhookEvent.objects.create(
        platform="fake", delivery_id="d", kind="order", shop_id="shop-1", order_ids=["A1"]
    )
    assert webhooks.process_event(event.pk).status == "processed"


def test_failure_is_kept_with_error_and_retried_with_backoff(account, fake_platform, monkeypatch):
    scheduled = []
    monkeypatch.setattr(webhooks, "enqueue", lambda pk, delay=None: scheduled.append((pk, delay)))
    fake_platform.get_error = TransientError("503 upstream")
    event = WebhookEvent.objects.create(
        platform="fake", delivery_id="d", kind="order", shop_id="shop-1", order_ids=["A1"]
    )
    webhooks.process_event(event.pk)
    event.refresh_from_db()
    assert event.status == "failed" and "503" in event.error and event.attempts == 1
    assert scheduled == [(event.pk, 60.0)]
    fake_platform.add(order("A1"))
    webhooks.process_event(event.pk)
    event.refresh_from_db()
    assert event.status == "processed" and event.attempts == 2 and event.error == ""


def test_gives_up_after_max_attempts(account, fake_platform, monkeypatch, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    scheduled = []
    monkeypatch.setattr(webhooks, "enqueue", lambda pk, delay=None: scheduled.append(delay))
    event = WebhookEvent.objects.create(
        platform="fake", delivery_id="d", kind="order", shop_id="shop-1", order_ids=["A1"], attempts=1
    )
    fake_platform.get_error = TransientError("down")
    webhooks.process_event(event.pk)
    assert scheduled == [] and WebhookEvent.objects.get().status == "failed"


def test_unknown_shop_and_blocked_accounts_are_ignored_with_reason(account, fake_platform):
    unknown = WebhookEvent.objects.create(
        platform="fake", delivery_id="u", kind="order", shop_id="nobody", order_ids=["A1"]
    )
    assert webhooks.process_event(unknown.pk).status == "ignored"
    assert "nobody" in WebhookEvent.objects.get(pk=unknown.pk).error
    ECAccount.objects.filter(pk=account.pk).update(fetch_orders_enabled=False)
    off = WebhookEvent.objects.create(
        platform="fake", delivery_id="o", kind="order", shop_id="shop-1", order_ids=["A1"]
    )
    processed = webhooks.process_event(off.pk)
    assert processed.status == "ignored" and "turned off" in processed.error
    assert fake_platform.get_calls == [] and not Order.objects.exists()


def test_deauthorization_disconnects_and_notifies(account):
    event = WebhookEvent.objects.create(
        platform="fake", delivery_id="x", kind="deauthorized", topic="app/uninstalled", shop_id="SHOP-1"
    )
    assert webhooks.process_event(event.pk).status == "processed"
    account.refresh_from_db()
    assert account.status == "disconnected" and "revoked" in account.status_reason
    assert Notification.objects.filter(kind="disconnected", ec_account=account).count() == 1


def test_sweep_requeues_stale_pending_and_overdue_failed(account, monkeypatch):
    queued = []
    monkeypatch.setattr(webhooks, "enqueue", lambda pk, delay=None: queued.append(pk))
    old = timezone.now() - timedelta(minutes=30)
    stale = WebhookEvent.objects.create(platform="fake", delivery_id="1", kind="order", shop_id="shop-1")
    fresh = WebhookEvent.objects.create(platform="fake", delivery_id="2", kind="order", shop_id="shop-1")
    failed = WebhookEvent.objects.create(
        platform="fake",
        delivery_id="3",
        kind="order",
        shop_id="shop-1",
        status="failed",
        attempts=1,
        processed_at=old,
    )
    done = WebhookEvent.objects.create(
        platform="fake", delivery_id="4", kind="order", shop_id="shop-1", status="processed"
    )
    WebhookEvent.objects.filter(pk__in=[stale.pk, done.pk]).update(received_at=old)
    assert webhooks.requeue_stale() == 2
    assert set(queued) == {stale.pk, failed.pk} and fresh.pk not in queued


# --- Shopee end to end through the sandbox -------------------------------------------------------------
@pytest.fixture
def shopee_shop(sandbox_client):
    return sandbox_client.post("/sandbox/shopee/_console/shops", json={"name": "Acme Shopee"}).json()


@pytest.fixture
def shopee_account(merchant, operator, sandbox_client, shopee_shop):
    account = new_account(merchant, "shopee")
    ok, message = connect_oauth(account, operator, sandbox_client, {"shop_id": str(shopee_shop["id"])})
    assert ok, message
    ECAccount.objects.filter(pk=account.pk).update(fetch_orders_enabled=True)
    account.refresh_from_db()
    return account


def shopee_orders(sandbox_client, shop_id, count, **body):
    body.setdefault("lines", [{"sku": "SKU-1", "quantity": 1}])
    response = sandbox_client.post(
        "/sandbox/shopee/_console/orders", json={"shop": shop_id, "count": count, **body}
    )
    assert response.status_code == 200, response.text
    return response.json()


def faults(sandbox_client, **values):
    assert sandbox_client.post("/sandbox/shopee/_console/faults", json=values).status_code == 200


def test_shopee_fetch_imports_every_order_once_despite_faults(sandbox_client, shopee_account, shopee_shop):
    shopee_orders(sandbox_client, shopee_shop["id"], 120)
    faults(sandbox_client, error_rate=0.2, throttle_rate=0.1, seed=7)
    run = fetching.run_fetch(shopee_account.pk)
    if run.status != "succeeded":  # a page can still exhaust its retries: the next run resumes
        faults(sandbox_client, error_rate=0, throttle_rate=0)
        run = fetching.run_fetch(shopee_account.pk)
    assert run.status == "succeeded", run.message
    assert Order.objects.filter(ec_account=shopee_account).count() == 120
    assert Order.objects.values("platform_order_id").distinct().count() == 120
    faults(sandbox_client, error_rate=0, throttle_rate=0)
    again = fetching.run_fetch(shopee_account.pk)
    assert again.status == "succeeded" and again.orders_new == 0
    assert Order.objects.filter(ec_account=shopee_account).count() == 120


def test_shopee_token_expiring_mid_fetch_is_refreshed(sandbox_client, shopee_account, shopee_shop):
    shopee_orders(sandbox_client, shopee_shop["id"], 5)
    faults(sandbox_client, expire_tokens=True)
    run = fetching.run_fetch(shopee_account.pk)
    assert run.status == "succeeded", run.message
    assert Order.objects.filter(ec_account=shopee_account).count() == 5
    shopee_account.refresh_from_db()
    assert shopee_account.status == "connected"


def test_shopee_push_reaches_the_inbox_and_imports_the_order(
    sandbox_client, shopee_account, shopee_shop, webhooks_to_django, django_capture_on_commit_callbacks
):
    push_url = settings.PLATFORMS["shopee"]["push_url"]
    assert (
        sandbox_client.post(
            "/sandbox/shopee/_console/push-config", json={"callback_url": push_url}
        ).status_code
        == 200
    )
    HUEY.immediate = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            created = shopee_orders(sandbox_client, shopee_shop["id"], 1, notify=True)
    finally:
        HUEY.immediate = False
    assert webhooks_to_django and all(status == 200 for _url, status in webhooks_to_django)
    events = WebhookEvent.objects.filter(platform="shopee")
    assert events.exists() and all(e.status == "processed" for e in events), [
        (e.status, e.error) for e in events
    ]
    assert Order.objects.filter(ec_account=shopee_account).count() >= 1
    assert created
    # no run was needed, and nothing leaked into the inbound log
    assert not FetchRun.objects.exists()
    text = " ".join(
        ApiCall.objects.filter(direction="inbound").values_list("request_body", "request_headers")[0]
    )
    assert settings.PLATFORMS["shopee"]["partner_key"] not in text
