"""Fixtures for the API-log tests: EC accounts of two merchants and a row factory."""

from datetime import datetime

import pytest

from ecbridge.apilog.models import ApiCall
from ecbridge.integrations.models import ECAccount


@pytest.fixture
def account(merchant, channel):
    acc = ECAccount(
        merchant=merchant, platform="shopee", display_name="Acme Shopee TW", sales_channel=channel
    )
    acc.set_tokens({"access_token": "shopee-access-TOKEN-0001", "refresh_token": "shopee-refresh-TOKEN-0002"})
    acc.save()
    return acc


@pytest.fixture
def momo_account(merchant, channel):
    acc = ECAccount(merchant=merchant, platform="momo", display_name="Acme momo", sales_channel=channel)
    acc.set_credentials(
        {"entp_id": "12345678", "entp_code": "654321", "entp_pwd": "Momo-Pwd-9876", "otp_back_no": "042"}
    )
    acc.save()
    return acc


@pytest.fixture
def other_account(other_merchant, other_channel):
    return ECAccount.objects.create(
        merchant=other_merchant, platform="shopify", display_name="Beta Shopify", sales_channel=other_channel
    )


@pytest.fixture
def make_call():
    """Create an ApiCall row; ``at`` (aware datetime) overrides the auto_now_add time."""

    def make(account=None, *, at: datetime | None = None, merchant=None, **fields):
        values = {
            "platform": account.platform if account else "shopee",
            "direction": ApiCall.Direction.OUTBOUND,
            "operation": "orders.list",
            "method": "GET",
            "endpoint": "https://partner.shopeemobile.com/api/v2/order/get_order_list?shop_id=1",
            "status_code": 200,
            "duration_ms": 120,
            "outcome": ApiCall.Outcome.SUCCESS,
        }
        values.update(fields)
        if account is not None:
            values.setdefault("account_label", account.display_name)
            merchant = merchant or account.merchant
        call = ApiCall.objects.create(ec_account=account, merchant=merchant, **values)
        if at is not None:
            ApiCall.objects.filter(pk=call.pk).update(created_at=at)
            call.refresh_from_db()
        return call

    return make
