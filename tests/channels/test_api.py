"""The sales-channel REST API: token auth, scoping (foreign id → 404), filters, and the same rules as
the pages (422 with a clear message, nothing written)."""

import json

import pytest
from django.test import Client

from ecbridge.channels.models import SalesChannel
from ecbridge.tenancy.models import ApiToken
from tests import factories

BASE = "/api/v1/sales-channels"


class Api:
    """A tiny JSON client authenticating with a personal API token."""

    def __init__(self, user):
        _token, raw = ApiToken.issue(user, "t")
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw}"}

    def get(self, path="", params=None):
        return self.client.get(BASE + path, params or {}, headers=self.headers)

    def post(self, body, path=""):
        return self.client.post(
            BASE + path, json.dumps(body), content_type="application/json", headers=self.headers
        )

    def patch(self, path, body):
        return self.client.patch(
            BASE + path, json.dumps(body), content_type="application/json", headers=self.headers
        )


@pytest.fixture
def operator_api(operator):
    return Api(operator)


@pytest.fixture
def merchant_api(merchant_user):
    return Api(merchant_user)


@pytest.fixture
def body():
    return {"name": "Acme momo", "primary_inventory_type": "good"}


def ids(response):
    return sorted(item["id"] for item in response.json()["items"])


# --- authentication --------------------------------------------------------------------------------
@pytest.mark.django_db
class TestAuth:
    def test_no_credentials_is_401(self, client, channel):
        assert client.get(BASE).status_code == 401
        response = client.post(BASE, json.dumps({"name": "x"}), content_type="application/json")
        assert response.status_code == 401
        assert SalesChannel.objects.count() == 1

    def test_wrong_token_is_401(self, client, channel):
        response = client.get(BASE, headers={"Authorization": "Bearer ecb_not-a-real-token"})
        assert response.status_code == 401

    def test_token_of_an_inactive_user_is_401(self, merchant_user, channel):
        api = Api(merchant_user)
        merchant_user.is_active = False
        merchant_user.save()
        assert api.get().status_code == 401

    def test_bearer_token_works(self, merchant_api, channel):
        response = merchant_api.get()
        assert response.status_code == 200
        assert ids(response) == [channel.pk]

    def test_browser_session_works_too(self, merchant_client, channel):
        response = merchant_client.get(BASE)
        assert response.status_code == 200
        assert response.json()["count"] == 1


# --- list and detail -------------------------------------------------------------------------------
@pytest.mark.django_db
class TestRead:
    def test_scoped_to_the_users_merchants(
        self, operator_api, merchant_api, channel, other_channel, third_merchant
    ):
        factories.SalesChannelFactory(merchant=third_merchant, name="Hidden")
        assert ids(merchant_api.get()) == [channel.pk]
        assert ids(operator_api.get()) == sorted([channel.pk, other_channel.pk])

    def test_filters(self, operator_api, merchant, other_merchant):
        a = factories.SalesChannelFactory(merchant=merchant, name="Shopee TW", internal_name="north")
        b = factories.SalesChannelFactory(merchant=merchant, name="momo", enabled=False)
        c = factories.SalesChannelFactory(merchant=other_merchant, name="Yahoo", internal_name="North hub")
        assert ids(operator_api.get("", {"merchant": merchant.pk})) == sorted([a.pk, b.pk])
        assert ids(operator_api.get("", {"merchant": [merchant.pk, other_merchant.pk]})) == sorted(
            [a.pk, b.pk, c.pk]
        )
        assert ids(operator_api.get("", {"enabled": "false"})) == [b.pk]
        assert ids(operator_api.get("", {"enabled": "true"})) == sorted([a.pk, c.pk])
        assert ids(operator_api.get("", {"q": "NORTH"})) == sorted([a.pk, c.pk])
        assert ids(operator_api.get("", {"q": "north", "merchant": other_merchant.pk})) == [c.pk]

    def test_merchant_filter_cannot_widen_the_scope(self, merchant_api, other_channel):
        response = merchant_api.get("", {"merchant": other_channel.merchant_id})
        assert response.status_code == 200
        assert response.json() == {"items": [], "count": 0}

    def test_pagination(self, merchant_api, merchant):
        for i in range(30):
            factories.SalesChannelFactory(merchant=merchant, name=f"C{i}")
        first = merchant_api.get().json()
        assert first["count"] == 30 and len(first["items"]) == 25
        second = merchant_api.get("", {"page": 2}).json()
        assert len(second["items"]) == 5
        assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
        assert len(merchant_api.get("", {"page_size": 10}).json()["items"]) == 10

    def test_detail_shape(self, merchant_api, channel):
        data = merchant_api.get(f"/{channel.pk}").json()
        assert data["id"] == channel.pk
        assert data["merchant"] == channel.merchant_id
        assert data["merchant_name"] == "Acme Foods"
        assert data["name"] == "Acme Shopee"
        assert data["primary_inventory_type"] == "good"
        assert data["primary_inventory_type_name"] == "Good stock"
        assert data["secondary_inventory_type"] is None
        assert data["default_shipping_type"] == "tcat_home"
        assert data["match_rule"] == "sku"
        assert data["expiry_control"] == "none"

    def test_foreign_or_missing_id_is_404(self, merchant_api, other_channel):
        response = merchant_api.get(f"/{other_channel.pk}")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
        assert merchant_api.get("/999999").status_code == 404

    def test_reference_lists(self, merchant_api):
        inventory = merchant_api.get("/inventory-types").json()
        assert {"code": "good", "name": "Good stock", "name_zh_hant": "良品"} in inventory
        shipping = merchant_api.get("/shipping-types", {"enabled": "true"}).json()
        assert any(s["code"] == "seven_pickup" for s in shipping)


# --- create ----------------------------------------------------------------------------------------
@pytest.mark.django_db
class TestCreate:
    def test_merchant_user_creates_for_own_merchant_with_defaults(self, merchant_api, merchant, body):
        response = merchant_api.post(body)
        assert response.status_code == 201, response.content
        data = response.json()
        channel = SalesChannel.objects.get(pk=data["id"])
        assert channel.merchant == merchant
        assert channel.enabled is True, "an omitted flag takes the model default, not False"
        assert (channel.match_rule, channel.expiry_control) == ("sku", "none")
        assert data["enabled"] is True

    def test_all_fields(self, merchant_api):
        response = merchant_api.post(
            {
                "name": "PX Mart",
                "internal_name": "wholesale",
                "enabled": False,
                "match_rule": "barcode",
                "primary_inventory_type": "good",
                "secondary_inventory_type": "near_expiry",
                "same_expiry": True,
                "expiry_control": "ratio",
                "expiry_ratio": 33.33,
                "expiry_ratio_overseas": "50",
                "default_shipping_type": "family_pickup",
            }
        )
        assert response.status_code == 201, response.content
        data = response.json()
        assert data["expiry_ratio"] == 33.33 and data["expiry_ratio_overseas"] == 50.0
        assert data["secondary_inventory_type"] == "near_expiry"
        assert data["default_shipping_type_name"].startswith("FamilyMart")
        assert (data["enabled"], data["same_expiry"], data["match_rule"]) == (False, True, "barcode")

    def test_multi_merchant_user_must_name_the_merchant(self, operator_api, body):
        response = operator_api.post(body)
        assert response.status_code == 422
        data = response.json()
        assert "merchant" in data["detail"]
        assert data["errors"][0]["loc"] == ["body", "payload", "merchant"]
        assert not SalesChannel.objects.exists()

    def test_operator_creates_for_a_named_merchant(self, operator_api, other_merchant, body):
        response = operator_api.post({**body, "merchant": other_merchant.pk})
        assert response.status_code == 201
        assert SalesChannel.objects.get().merchant == other_merchant

    def test_single_merchant_operator_needs_no_merchant(self, single_operator, merchant, body):
        assert Api(single_operator).post(body).status_code == 201
        assert SalesChannel.objects.get().merchant == merchant

    @pytest.mark.parametrize("who", ["merchant_user", "operator"])
    def test_foreign_merchant_is_404(self, request, who, third_merchant, other_merchant, body):
        api = Api(request.getfixturevalue(who))
        target = other_merchant if who == "merchant_user" else third_merchant
        response = api.post({**body, "merchant": target.pk})
        assert response.status_code == 404
        assert not SalesChannel.objects.exists()

    def test_duplicate_name_is_422_with_a_clear_message(self, merchant_api, channel, body):
        response = merchant_api.post({**body, "name": "Acme Shopee"})
        assert response.status_code == 422
        data = response.json()
        assert data["detail"] == (
            "A sales channel named “Acme Shopee” already exists for this merchant. Choose another name."
        )
        assert data["errors"] == [
            {"loc": ["body", "payload", "name"], "msg": data["detail"], "type": "duplicate_name"}
        ]
        assert SalesChannel.objects.count() == 1

    def test_same_name_in_another_merchant_is_fine(self, operator_api, other_merchant, channel, body):
        response = operator_api.post({**body, "name": "Acme Shopee", "merchant": other_merchant.pk})
        assert response.status_code == 201

    @pytest.mark.parametrize(
        ("extra", "field"),
        [
            ({"expiry_control": "days"}, "expiry_days"),
            ({"expiry_control": "ratio"}, "expiry_ratio"),
            ({"expiry_control": "ratio", "expiry_ratio": 120}, "expiry_ratio"),
            (
                {"expiry_control": "ratio", "expiry_ratio": 10, "expiry_ratio_overseas": 0},
                "expiry_ratio_overseas",
            ),
            ({"expiry_control": "days", "expiry_days": -1}, "expiry_days"),
            ({"secondary_inventory_type": "good"}, "secondary_inventory_type"),
            ({"primary_inventory_type": "no-such-type"}, "primary_inventory_type"),
            ({"default_shipping_type": "no-such-type"}, "default_shipping_type"),
            ({"name": ""}, "name"),
            ({"name": "x" * 121}, "name"),
        ],
    )
    def test_rule_violations_are_422_and_write_nothing(self, merchant_api, body, extra, field):
        response = merchant_api.post({**body, **extra})
        assert response.status_code == 422, response.content
        data = response.json()
        assert field in [e["loc"][-1] for e in data["errors"]]
        assert data["detail"]
        assert not SalesChannel.objects.exists()

    def test_schema_violations_are_422(self, merchant_api, body):
        assert merchant_api.post({"name": "x"}).status_code == 422
        assert merchant_api.post({**body, "match_rule": "by_magic"}).status_code == 422
        assert merchant_api.post({**body, "enabled": "perhaps"}).status_code == 422
        assert not SalesChannel.objects.exists()

    def test_malformed_json_is_not_a_500(self, merchant_api):
        response = merchant_api.client.post(
            BASE, "{not json", content_type="application/json", headers=merchant_api.headers
        )
        assert 400 <= response.status_code < 500
        assert not SalesChannel.objects.exists()


# --- update ----------------------------------------------------------------------------------------
@pytest.mark.django_db
class TestPatch:
    def test_partial_update_changes_only_what_was_sent(self, merchant_api, channel):
        channel.internal_name = "keep me"
        channel.save()
        response = merchant_api.patch(f"/{channel.pk}", {"enabled": False, "match_rule": "barcode"})
        assert response.status_code == 200, response.content
        channel.refresh_from_db()
        assert (channel.enabled, channel.match_rule) == (False, "barcode")
        assert (channel.name, channel.internal_name) == ("Acme Shopee", "keep me")
        assert channel.default_shipping_type.code == "tcat_home"
        assert response.json()["enabled"] is False

    def test_null_clears_an_optional_field(self, merchant_api, channel):
        response = merchant_api.patch(f"/{channel.pk}", {"default_shipping_type": None})
        assert response.status_code == 200
        channel.refresh_from_db()
        assert channel.default_shipping_type is None

    def test_null_is_refused_for_a_required_field(self, merchant_api, channel):
        assert merchant_api.patch(f"/{channel.pk}", {"name": None}).status_code == 422
        assert merchant_api.patch(f"/{channel.pk}", {"primary_inventory_type": None}).status_code == 422
        assert merchant_api.patch(f"/{channel.pk}", {"enabled": None}).status_code == 422
        channel.refresh_from_db()
        assert channel.name == "Acme Shopee" and channel.enabled is True

    def test_merchant_cannot_change(self, operator_api, channel, other_merchant):
        response = operator_api.patch(f"/{channel.pk}", {"merchant": other_merchant.pk, "name": "Moved"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"][-1] == "merchant"
        channel.refresh_from_db()
        assert (channel.merchant.code, channel.name) == ("acme", "Acme Shopee")
        # Repeating the current merchant is harmless.
        response = operator_api.patch(f"/{channel.pk}", {"merchant": channel.merchant_id, "name": "Renamed"})
        assert response.status_code == 200

    def test_rules_apply_to_the_merged_result(self, merchant_api, channel):
        response = merchant_api.patch(f"/{channel.pk}", {"expiry_control": "days"})
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"][-1] == "expiry_days"
        response = merchant_api.patch(f"/{channel.pk}", {"expiry_control": "days", "expiry_days": 90})
        assert response.status_code == 200
        # Switching mode later drops the other mechanism's values.
        response = merchant_api.patch(f"/{channel.pk}", {"expiry_control": "ratio", "expiry_ratio": "33.3"})
        assert response.status_code == 200
        assert (response.json()["expiry_days"], response.json()["expiry_ratio"]) == (None, 33.3)

    def test_duplicate_name_on_rename_is_422(self, merchant_api, merchant, channel):
        factories.SalesChannelFactory(merchant=merchant, name="Acme momo")
        response = merchant_api.patch(f"/{channel.pk}", {"name": "Acme momo"})
        assert response.status_code == 422
        assert "already exists" in response.json()["detail"]
        channel.refresh_from_db()
        assert channel.name == "Acme Shopee"

    def test_foreign_id_is_404_and_untouched(self, merchant_api, other_channel):
        response = merchant_api.patch(f"/{other_channel.pk}", {"name": "Hijacked"})
        assert response.status_code == 404
        other_channel.refresh_from_db()
        assert other_channel.name == "Beta Shopee"
