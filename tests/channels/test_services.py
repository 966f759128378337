"""The one place the channel rules live: the form + services used by both the pages and the API."""

from decimal import Decimal

import pytest
from django.http import Http404
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecbridge.channels.forms import SalesChannelForm
from ecbridge.channels.models import SalesChannel
from ecbridge.channels.services import (
    ChannelInvalid,
    create_channel,
    merchant_for_create,
    save_form,
    update_channel,
)
from tests import factories


@pytest.mark.django_db
def test_concurrent_duplicate_becomes_a_form_error_not_a_500(merchant):
    form = SalesChannelForm(
        data={
            "name": "Race",
            "match_rule": "sku",
            "primary_inventory_type": "good",
            "expiry_control": "none",
        },
        merchant=merchant,
    )
    assert form.is_valid()
    # Another request wins the race between validation and saving.
    factories.SalesChannelFactory(merchant=merchant, name="Race")
    assert save_form(form) is None
    assert "already exists" in form.errors["name"][0]
    assert SalesChannel.objects.filter(name="Race").count() == 1


@pytest.mark.django_db
def test_form_needs_a_merchant():
    with pytest.raises(ValueError):
        SalesChannelForm(data={})


@pytest.mark.django_db
class TestMerchantForCreate:
    def test_several_merchants_must_pick(self, operator, merchant):
        assert merchant_for_create(operator, None) is None
        assert merchant_for_create(operator, str(merchant.pk)) == merchant

    def test_one_merchant_is_implied(self, merchant_user, single_operator, merchant):
        assert merchant_for_create(merchant_user, None) == merchant
        assert merchant_for_create(single_operator, "") == merchant

    @pytest.mark.parametrize("value", ["abc", "-1", "999999", "1.5"])
    def test_unknown_or_garbage_is_404(self, operator, value):
        with pytest.raises(Http404):
            merchant_for_create(operator, value)

    def test_inactive_user_manages_nothing(self, merchant_user, merchant):
        merchant_user.is_active = False
        with pytest.raises(Http404):
            merchant_for_create(merchant_user, merchant.pk)


@pytest.mark.django_db
def test_update_validates_the_merged_values_and_leaves_the_row_alone(channel):
    with pytest.raises(ChannelInvalid) as exc:
        update_channel(channel, {"secondary_inventory_type": "good"})
    assert list(exc.value.errors) == ["secondary_inventory_type"]
    channel.refresh_from_db()
    assert channel.secondary_inventory_type is None


days = st.one_of(st.none(), st.integers(min_value=-5, max_value=5000))
ratios = st.one_of(
    st.none(),
    st.decimals(
        min_value=Decimal("-10"), max_value=Decimal("200"), places=2, allow_nan=False, allow_infinity=False
    ),
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    control=st.sampled_from(["none", "days", "ratio"]),
    expiry_days=days,
    expiry_days_overseas=days,
    expiry_ratio=ratios,
    expiry_ratio_overseas=ratios,
)
def test_expiry_rules(
    merchant, control, expiry_days, expiry_days_overseas, expiry_ratio, expiry_ratio_overseas
):
    """Valid exactly when the chosen mechanism's inputs are valid; other inputs are ignored and cleared."""
    values = {
        "name": "Expiry",
        "primary_inventory_type": "good",
        "expiry_control": control,
        "expiry_days": expiry_days,
        "expiry_days_overseas": expiry_days_overseas,
        "expiry_ratio": expiry_ratio,
        "expiry_ratio_overseas": expiry_ratio_overseas,
    }

    def ok_ratio(value):
        return value is None or Decimal("0") < value <= Decimal("100")

    if control == "none":
        expected = True
    elif control == "days":
        expected = expiry_days is not None and expiry_days >= 0 and (expiry_days_overseas or 0) >= 0
    else:
        expected = expiry_ratio is not None and ok_ratio(expiry_ratio) and ok_ratio(expiry_ratio_overseas)

    SalesChannel.objects.filter(merchant=merchant).delete()
    try:
        channel = create_channel(merchant, values)
    except ChannelInvalid:
        assert not expected
        assert not SalesChannel.objects.filter(merchant=merchant).exists()
        return
    assert expected
    stored = (
        channel.expiry_days,
        channel.expiry_days_overseas,
        channel.expiry_ratio,
        channel.expiry_ratio_overseas,
    )
    if control == "none":
        assert stored == (None, None, None, None)
    elif control == "days":
        assert stored == (expiry_days, expiry_days_overseas, None, None)
    else:
        assert stored[:2] == (None, None)
        assert (channel.expiry_ratio, channel.expiry_ratio_overseas) == (expiry_ratio, expiry_ratio_overseas)
