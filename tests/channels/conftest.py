"""Fixtures for the sales-channel tests."""

import pytest

from tests import factories


@pytest.fixture
def valid_data():
    """A complete, valid form post for a new channel."""
    return {
        "name": "Acme momo",
        "internal_name": "momo main store",
        "enabled": "on",
        "match_rule": "barcode",
        "primary_inventory_type": "good",
        "secondary_inventory_type": "near_expiry",
        "same_expiry": "on",
        "expiry_control": "days",
        "expiry_days": "90",
        "expiry_days_overseas": "120",
        "expiry_ratio": "",
        "expiry_ratio_overseas": "",
        "default_shipping_type": "seven_pickup",
    }


@pytest.fixture
def third_merchant(db):
    """A merchant the operator is NOT assigned to."""
    return factories.MerchantFactory(name="Gamma Trading", code="gamma")
