"""Notifications are written by jobs (in the default language) and read in the reader's own:
they keep a message id and its parameters and are translated when shown; the list filters by
kind and by EC account; a user never sees another merchant's notifications."""

import pytest
from django.utils import translation

from ecbridge.core.messages import Msg
from ecbridge.integrations.services import status
from ecbridge.notifications.models import Notification
from ecbridge.notifications.services import notify
from tests.factories import ECAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(merchant, channel):
    return ECAccountFactory(merchant=merchant, sales_channel=channel, display_name="Acme momo")


def _in(client, language):
    client.cookies["django_language"] = language
    return client


def test_a_job_written_notification_is_read_in_each_readers_language(account, merchant_client):
    with translation.override("en"):  # a job runs in the default language
        status.mark_disconnected(account, "401 from the platform")
    note = Notification.objects.get(kind="disconnected")
    assert note.title == "Acme momo is disconnected"  # the stored default-language text
    zh = _in(merchant_client, "zh-hant").get("/notifications/").content.decode()
    assert "Acme momo 已斷線" in zh and "401 from the platform" in zh  # the platform's own text as it is
    en = _in(merchant_client, "en").get("/notifications/").content.decode()
    assert "Acme momo is disconnected" in en
    dropdown = _in(merchant_client, "zh-hant").get("/notifications/dropdown/").content.decode()
    assert "Acme momo 已斷線" in dropdown


def test_reconnecting_says_so(account, merchant_client):
    status.mark_disconnected(account, "expired")
    status.mark_connected(account)
    assert Notification.objects.filter(kind="reconnected").count() == 1
    zh = _in(merchant_client, "zh-hant").get("/notifications/?kind=reconnected").content.decode()
    assert "Acme momo 已重新連線" in zh and "已斷線" not in zh


def test_nested_messages_and_numbers_render_in_the_readers_language(account):
    body = Msg.join(
        Msg("Fetch failed: %(error)s", error="timeout"),
        Msg(
            "Imported before the failure: %(summary)s",
            summary=Msg(
                "%(new)d new, %(updated)d updated, %(unchanged)d unchanged, %(held)d put on hold, "
                "%(unknown)d new unknown products.",
                new=3,
                updated=1,
                unchanged=0,
                held=0,
                unknown=0,
            ),
        ),
    )
    note = notify(merchant_id=account.merchant_id, kind="fetch_failed", title="t", body=body)
    note.refresh_from_db()
    with translation.override("zh-hant"):
        shown = note.shown_body
    assert "timeout" in shown and "3" in shown and "new" not in shown


def test_filters_by_kind_and_account_stack(account, merchant, channel, operator_client, other_merchant):
    other = ECAccountFactory(merchant=merchant, sales_channel=channel, display_name="Acme shop 2")
    status.mark_disconnected(account, "x")
    status.mark_disconnected(other, "y")
    notify(
        merchant_id=merchant.pk,
        ec_account=account,
        kind="unknown_product",
        title=Msg("New unknown product: %(identifier)s", identifier="GIFT"),
    )
    page = operator_client.get(f"/notifications/?kind=disconnected&ec_account={account.pk}").content.decode()
    assert (
        "Acme momo is disconnected" in page
        and "Acme shop 2" not in page.split('id="notification-filters"')[1].split("</form>")[1]
    )
    assert "GIFT" not in page
    everything = operator_client.get("/notifications/").content.decode()
    assert "GIFT" in everything and "Acme shop 2 is disconnected" in everything


def test_another_merchants_notifications_never_show(account, other_merchant_client):
    status.mark_disconnected(account, "x")
    page = other_merchant_client.get("/notifications/").content.decode()
    assert "Acme momo" not in page
    page = other_merchant_client.get(f"/notifications/?ec_account={account.pk}").content.decode()
    assert "Acme momo" not in page
