"""Sales-channel pages: role scoping, merchant-first create, validation, filters, sorting, next=."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ecbridge.channels.models import SalesChannel, ShippingType
from ecbridge.integrations.models import ECAccount
from tests import factories

LIST = reverse("channels:list")
CREATE = reverse("channels:create")


def names(response):
    return [c.name for c in response.context["page"]]


def login(user):
    client = Client()
    client.force_login(user)
    return client


# --- list ------------------------------------------------------------------------------------------
@pytest.mark.django_db
class TestList:
    def test_anonymous_is_sent_to_login(self, client):
        response = client.get(LIST)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))

    def test_operator_with_two_merchants_sees_merchant_column_and_filter(
        self, operator_client, channel, other_channel
    ):
        response = operator_client.get(LIST)
        assert response.status_code == 200
        assert set(names(response)) == {"Acme Shopee", "Beta Shopee"}
        assert response.context["show_merchant"] is True
        assert [f["param"] for f in response.context["filters"]] == [
            "merchant",
            "name",
            "internal_name",
            "enabled",
        ]
        content = response.content.decode()
        assert 'data-filter="merchant"' in content
        assert "?sort=merchant" in content
        assert "Beta Goods" in content

    def test_merchant_user_sees_only_own_channels_and_no_merchant_column(
        self, merchant_client, channel, other_channel
    ):
        response = merchant_client.get(LIST)
        assert names(response) == ["Acme Shopee"]
        assert response.context["show_merchant"] is False
        content = response.content.decode()
        assert 'data-filter="merchant"' not in content
        assert "?sort=merchant" not in content
        assert "Beta" not in content

    def test_single_merchant_operator_has_no_merchant_column(self, single_operator, channel, other_channel):
        response = login(single_operator).get(LIST)
        assert names(response) == ["Acme Shopee"]
        assert response.context["show_merchant"] is False

    def test_merchant_param_is_ignored_for_a_merchant_user(self, merchant_client, channel, other_channel):
        response = merchant_client.get(LIST, {"merchant": other_channel.merchant_id})
        assert names(response) == ["Acme Shopee"]

    def test_admin_sees_every_merchant(self, admin_user, channel, other_channel, third_merchant):
        factories.SalesChannelFactory(merchant=third_merchant, name="Gamma Web")
        response = login(admin_user).get(LIST)
        assert set(names(response)) == {"Acme Shopee", "Beta Shopee", "Gamma Web"}

    def test_header_switcher_narrows_the_list(self, operator_client, other_merchant, channel, other_channel):
        operator_client.post(
            reverse("tenancy:switch_merchant"), {"merchant": other_merchant.pk, "next": LIST}
        )
        assert names(operator_client.get(LIST)) == ["Beta Shopee"]
        operator_client.post(reverse("tenancy:switch_merchant"), {"merchant": "", "next": LIST})
        assert len(names(operator_client.get(LIST))) == 2

    def test_search_matches_name_and_internal_name(self, operator_client, merchant, other_merchant):
        factories.SalesChannelFactory(merchant=merchant, name="Acme momo", internal_name="north store")
        factories.SalesChannelFactory(merchant=other_merchant, name="Beta Yahoo", internal_name="wholesale")
        factories.SalesChannelFactory(merchant=other_merchant, name="North Outlet")
        assert sorted(names(operator_client.get(LIST, {"q": "north"}))) == ["Acme momo", "North Outlet"]
        assert names(operator_client.get(LIST, {"q": "WHOLE"})) == ["Beta Yahoo"]
        assert names(operator_client.get(LIST, {"q": "nothing-like-this"})) == []

    def test_filters_stack_and_multi_values_combine(self, operator_client, merchant, other_merchant):
        factories.SalesChannelFactory(merchant=merchant, name="Shopee", enabled=True)
        factories.SalesChannelFactory(merchant=merchant, name="momo", enabled=False)
        factories.SalesChannelFactory(merchant=other_merchant, name="Shopee", enabled=False)
        factories.SalesChannelFactory(merchant=other_merchant, name="Yahoo", enabled=True)

        def rows(**params):
            response = operator_client.get(LIST, params)
            return sorted((c.merchant.code, c.name) for c in response.context["page"])

        assert rows(name=["Shopee"]) == [("acme", "Shopee"), ("beta", "Shopee")]
        assert rows(name=["Shopee", "momo"]) == [("acme", "Shopee"), ("acme", "momo"), ("beta", "Shopee")]
        assert rows(name=["Shopee"], enabled=["no"]) == [("beta", "Shopee")]
        assert rows(merchant=[str(merchant.pk)], enabled=["yes"]) == [("acme", "Shopee")]
        assert rows(merchant=[str(merchant.pk), str(other_merchant.pk)], enabled=["yes", "no"]) == rows()
        assert rows(enabled=["yes"]) == [("acme", "Shopee"), ("beta", "Yahoo")]

    def test_filter_choices_are_scoped_and_active_filters_can_be_removed(
        self, merchant_client, merchant, other_merchant
    ):
        factories.SalesChannelFactory(merchant=merchant, name="Shopee", internal_name="main")
        factories.SalesChannelFactory(merchant=merchant, name="momo")
        factories.SalesChannelFactory(merchant=other_merchant, name="Secret Beta Channel", internal_name="x")
        response = merchant_client.get(LIST, {"name": ["Shopee", "momo"], "enabled": "yes"})
        filters = {f["param"]: f for f in response.context["filters"]}
        assert [v for v, _label in filters["name"]["choices"]] == ["Shopee", "momo"]
        assert [v for v, _label in filters["internal_name"]["choices"]] == ["main"]
        chips = response.context["active_filters"]
        assert [(str(c["label"]), c["value"]) for c in chips] == [
            ("Channel Name", "Shopee"),
            ("Channel Name", "momo"),
            ("Enabled", "Enabled"),
        ]
        # Removing one chip keeps the other values of the same filter.
        remove_shopee = chips[0]["remove_url"]
        assert "name=momo" in remove_shopee and "name=Shopee" not in remove_shopee
        assert "enabled=yes" in remove_shopee
        assert names(merchant_client.get(LIST + remove_shopee)) == ["momo"]

    def test_default_sort_is_updated_at_newest_first(self, merchant_client, merchant):
        now = timezone.now()
        for i, name in enumerate(["old", "newest", "middle"]):
            c = factories.SalesChannelFactory(merchant=merchant, name=name)
            offset = {"old": 30, "newest": 1, "middle": 10}[name]
            SalesChannel.objects.filter(pk=c.pk).update(updated_at=now - timedelta(minutes=offset + i))
        response = merchant_client.get(LIST)
        assert response.context["sort"] == "-updated_at"
        assert names(response) == ["newest", "middle", "old"]
        assert names(merchant_client.get(LIST, {"sort": "updated_at"})) == ["old", "middle", "newest"]

    @pytest.mark.parametrize(
        ("sort", "expected"),
        [
            ("name", ["alpha", "bravo", "charlie"]),
            ("-name", ["charlie", "bravo", "alpha"]),
            ("internal_name", ["bravo", "charlie", "alpha"]),
            ("enabled", ["charlie", "alpha", "bravo"]),
            ("match_rule", ["bravo", "alpha", "charlie"]),
            ("primary_inventory_type", ["alpha", "charlie", "bravo"]),
            ("default_shipping_type", ["charlie", "bravo", "alpha"]),
        ],
    )
    def test_sortable_columns(self, merchant_client, merchant, sort, expected):
        good, near = factories.inventory_type("good"), factories.inventory_type("near_expiry")
        # Names: "Good stock" < "Near expiry"; "7-ELEVEN pickup" < "FamilyMart…" < "T-Cat…".
        data = [
            ("alpha", "c", True, "sku", good, "tcat_home"),
            ("bravo", "a", True, "barcode", near, "family_pickup"),
            ("charlie", "b", False, "sku", good, "seven_pickup"),
        ]
        for name, internal, enabled, rule, inv, ship in data:
            factories.SalesChannelFactory(
                merchant=merchant,
                name=name,
                internal_name=internal,
                enabled=enabled,
                match_rule=rule,
                primary_inventory_type=inv,
                default_shipping_type=factories.shipping_type(ship),
            )
        response = merchant_client.get(LIST, {"sort": sort})
        got = names(response)
        # Ties (same value) are broken by pk in the same direction; compare the distinct-value order.
        if sort == "enabled":
            assert got[0] == "charlie" and set(got[1:]) == {"alpha", "bravo"}
        elif sort == "match_rule":
            assert got[0] == "bravo" and set(got[1:]) == {"alpha", "charlie"}
        elif sort == "primary_inventory_type":
            assert got[-1] == "bravo" and set(got[:2]) == {"alpha", "charlie"}
        else:
            assert got == expected

    def test_sort_by_merchant_for_operator_and_unknown_sort_falls_back(
        self, operator_client, channel, other_channel
    ):
        assert names(operator_client.get(LIST, {"sort": "-merchant"})) == ["Beta Shopee", "Acme Shopee"]
        response = operator_client.get(LIST, {"sort": "password"})
        assert response.status_code == 200
        assert response.context["sort"] == "-updated_at"

    def test_pagination(self, merchant_client, merchant):
        for i in range(30):
            factories.SalesChannelFactory(merchant=merchant, name=f"Channel {i:02d}")
        first = merchant_client.get(LIST, {"sort": "name"})
        assert len(first.context["page"]) == 25
        second = merchant_client.get(LIST, {"sort": "name", "page": 2})
        assert names(second) == [f"Channel {i:02d}" for i in range(25, 30)]
        assert "page=2" in first.content.decode()

    def test_list_has_new_and_view_actions(self, merchant_client, channel):
        content = merchant_client.get(LIST).content.decode()
        assert f'href="{CREATE}"' in content
        assert f'href="{reverse("channels:detail", args=[channel.pk])}"' in content
        assert ">View<" in content


# --- create ----------------------------------------------------------------------------------------
@pytest.mark.django_db
class TestCreate:
    def test_multi_merchant_operator_picks_the_merchant_first(
        self, operator_client, merchant, other_merchant
    ):
        response = operator_client.get(CREATE)
        assert response.status_code == 200
        assert [t.name for t in response.templates][0] == "channels/pick_merchant.html"
        assert "form" not in response.context
        choices = [str(label) for _value, label in response.context["pick_form"].fields["merchant"].choices]
        assert choices[1:] == ["Acme Foods", "Beta Goods"]

        response = operator_client.get(CREATE, {"merchant": other_merchant.pk})
        assert [t.name for t in response.templates][0] == "channels/form.html"
        assert response.context["merchant"] == other_merchant
        assert "Choose another merchant" in response.content.decode()

    def test_picker_preselects_the_header_merchant(self, operator_client, other_merchant):
        operator_client.post(
            reverse("tenancy:switch_merchant"), {"merchant": other_merchant.pk, "next": LIST}
        )
        response = operator_client.get(CREATE)
        assert response.context["pick_form"]["merchant"].value() == other_merchant.pk
        assert f'<option value="{other_merchant.pk}" selected>' in response.content.decode()

    def test_operator_creates_for_the_picked_merchant(self, operator_client, other_merchant, valid_data):
        response = operator_client.post(f"{CREATE}?merchant={other_merchant.pk}", valid_data)
        channel = SalesChannel.objects.get()
        assert response.status_code == 302
        assert response.url == reverse("channels:detail", args=[channel.pk])
        assert channel.merchant == other_merchant
        assert channel.name == "Acme momo"
        assert channel.internal_name == "momo main store"
        assert channel.match_rule == "barcode"
        assert channel.primary_inventory_type.code == "good"
        assert channel.secondary_inventory_type.code == "near_expiry"
        assert channel.same_expiry is True
        assert (channel.expiry_control, channel.expiry_days, channel.expiry_days_overseas) == (
            "days",
            90,
            120,
        )
        assert channel.default_shipping_type.code == "seven_pickup"

    def test_operator_cannot_create_for_an_unassigned_merchant(
        self, operator_client, third_merchant, valid_data
    ):
        assert operator_client.get(CREATE, {"merchant": third_merchant.pk}).status_code == 404
        response = operator_client.post(f"{CREATE}?merchant={third_merchant.pk}", valid_data)
        assert response.status_code == 404
        assert not SalesChannel.objects.exists()

    def test_garbage_merchant_param_is_404(self, operator_client):
        assert operator_client.get(CREATE, {"merchant": "abc"}).status_code == 404

    def test_merchant_user_never_sees_a_picker(self, merchant_client, merchant, valid_data):
        response = merchant_client.get(CREATE)
        assert [t.name for t in response.templates][0] == "channels/form.html"
        assert response.context["merchant"] == merchant
        assert "Choose another merchant" not in response.content.decode()
        merchant_client.post(CREATE, valid_data)
        assert SalesChannel.objects.get().merchant == merchant

    def test_merchant_user_cannot_create_for_another_merchant(
        self, merchant_client, other_merchant, valid_data
    ):
        assert merchant_client.get(CREATE, {"merchant": other_merchant.pk}).status_code == 404
        response = merchant_client.post(CREATE, {**valid_data, "merchant": other_merchant.pk})
        assert response.status_code == 404
        assert merchant_client.post(f"{CREATE}?merchant={other_merchant.pk}", valid_data).status_code == 404
        assert not SalesChannel.objects.exists()

    def test_single_merchant_operator_never_sees_a_picker(self, single_operator, merchant, valid_data):
        client = login(single_operator)
        response = client.get(CREATE)
        assert [t.name for t in response.templates][0] == "channels/form.html"
        client.post(CREATE, valid_data)
        assert SalesChannel.objects.get().merchant == merchant

    def test_operator_without_merchants_is_told_why(self, db):
        lonely = factories.UserFactory(username="lonely", role="operator")
        response = login(lonely).get(CREATE)
        assert response.status_code == 200
        assert "do not manage any merchant" in response.content.decode()

    def test_form_shows_sections_and_only_enabled_shipping_types(self, merchant_client):
        ShippingType.objects.filter(code="ok_pickup").update(enabled=False)
        response = merchant_client.get(CREATE)
        content = response.content.decode()
        for section in ("Basic Info", "Acceptance / Inventory", "Expiration", "Shipping rule"):
            assert section in content
        codes = [str(v) for v, _label in response.context["form"].fields["default_shipping_type"].choices]
        assert "seven_pickup" in codes and "ok_pickup" not in codes
        assert 'data-expiry="days"' in content and 'data-expiry="ratio"' in content
        # New channels are enabled by default.
        assert response.context["form"]["enabled"].value() is True

    def test_defaults_when_optional_fields_are_left_out(self, merchant_client, merchant):
        merchant_client.post(
            CREATE,
            {
                "name": "Minimal",
                "match_rule": "sku",
                "primary_inventory_type": "good",
                "expiry_control": "none",
            },
        )
        channel = SalesChannel.objects.get()
        assert channel.secondary_inventory_type is None
        assert channel.default_shipping_type is None
        assert channel.enabled is False  # an unticked checkbox means "off"
        assert channel.expiry_control == "none"


# --- validation ------------------------------------------------------------------------------------
@pytest.mark.django_db
class TestValidation:
    def post(self, client, data):
        before = SalesChannel.objects.count()
        response = client.post(CREATE, data)
        assert response.status_code == 200, "an invalid form is shown again, not redirected"
        assert SalesChannel.objects.count() == before, "nothing is written on invalid input"
        return response.context["form"]

    def test_duplicate_name_in_the_same_merchant_is_refused(self, merchant_client, channel, valid_data):
        form = self.post(merchant_client, {**valid_data, "name": "Acme Shopee"})
        assert form.errors["name"] == [
            "A sales channel named “Acme Shopee” already exists for this merchant. Choose another name."
        ]

    def test_duplicate_name_ignores_case(self, merchant_client, channel, valid_data):
        form = self.post(merchant_client, {**valid_data, "name": "acme SHOPEE"})
        assert "already exists" in form.errors["name"][0]

    def test_same_name_is_allowed_for_another_merchant(self, other_merchant_client, channel, valid_data):
        response = other_merchant_client.post(CREATE, {**valid_data, "name": "Acme Shopee"})
        assert response.status_code == 302
        assert SalesChannel.objects.filter(name="Acme Shopee").count() == 2

    def test_name_and_primary_type_are_required(self, merchant_client, valid_data):
        form = self.post(merchant_client, {**valid_data, "name": "  ", "primary_inventory_type": ""})
        assert set(form.errors) == {"name", "primary_inventory_type"}

    def test_unknown_reference_codes_are_refused(self, merchant_client, valid_data):
        form = self.post(
            merchant_client, {**valid_data, "primary_inventory_type": "nope", "default_shipping_type": "nope"}
        )
        assert set(form.errors) == {"primary_inventory_type", "default_shipping_type"}

    def test_disabled_shipping_type_is_refused_for_a_new_channel(self, merchant_client, valid_data):
        ShippingType.objects.filter(code="seven_pickup").update(enabled=False)
        form = self.post(merchant_client, valid_data)
        assert "default_shipping_type" in form.errors

    def test_secondary_type_must_differ_from_primary(self, merchant_client, valid_data):
        form = self.post(merchant_client, {**valid_data, "secondary_inventory_type": "good"})
        assert form.errors["secondary_inventory_type"] == [
            "The secondary type must differ from the primary type."
        ]

    def test_days_mode_needs_days(self, merchant_client, valid_data):
        form = self.post(merchant_client, {**valid_data, "expiry_control": "days", "expiry_days": ""})
        assert form.errors["expiry_days"] == ["Enter the minimum remaining shelf life in days."]

    def test_negative_days_are_refused(self, merchant_client, valid_data):
        form = self.post(merchant_client, {**valid_data, "expiry_days": "-5"})
        assert "expiry_days" in form.errors

    def test_ratio_mode_needs_a_ratio(self, merchant_client, valid_data):
        form = self.post(merchant_client, {**valid_data, "expiry_control": "ratio", "expiry_ratio": ""})
        assert form.errors["expiry_ratio"] == ["Enter the minimum remaining shelf-life ratio."]

    @pytest.mark.parametrize("field", ["expiry_ratio", "expiry_ratio_overseas"])
    @pytest.mark.parametrize("value", ["0", "100.01", "150"])
    def test_ratio_must_be_a_percentage(self, merchant_client, valid_data, field, value):
        data = {**valid_data, "expiry_control": "ratio", "expiry_ratio": "50", field: value}
        form = self.post(merchant_client, data)
        assert field in form.errors

    def test_ratio_mode_saves_ratios_and_drops_hidden_day_values(self, merchant_client, valid_data):
        data = {
            **valid_data,
            "expiry_control": "ratio",
            "expiry_ratio": "33.33",
            "expiry_ratio_overseas": "50",
        }
        assert merchant_client.post(CREATE, data).status_code == 302
        channel = SalesChannel.objects.get()
        assert (str(channel.expiry_ratio), str(channel.expiry_ratio_overseas)) == ("33.33", "50.00")
        assert channel.expiry_days is None and channel.expiry_days_overseas is None

    def test_no_control_clears_every_expiry_value_even_invalid_hidden_ones(self, merchant_client, valid_data):
        data = {**valid_data, "expiry_control": "none", "expiry_days": "abc", "expiry_ratio": "500"}
        assert merchant_client.post(CREATE, data).status_code == 302
        channel = SalesChannel.objects.get()
        assert channel.expiry_control == "none"
        assert [channel.expiry_days, channel.expiry_days_overseas, channel.expiry_ratio] == [None, None, None]

    def test_errors_are_shown_on_the_page(self, merchant_client, channel, valid_data):
        response = merchant_client.post(CREATE, {**valid_data, "name": "Acme Shopee"})
        content = response.content.decode()
        assert "Please correct the errors below." in content
        assert "already exists for this merchant" in content
        assert "is-invalid" in content


# --- next= -----------------------------------------------------------------------------------------
@pytest.mark.django_db
class TestNext:
    def test_local_next_is_followed_after_create(self, merchant_client, valid_data):
        target = "/ec-accounts/new/?platform=shopee"
        page = merchant_client.get(CREATE, {"next": target})
        assert page.context["cancel_url"] == target
        assert 'name="next"' in page.content.decode()
        response = merchant_client.post(f"{CREATE}?next=/ec-accounts/new/%3Fplatform%3Dshopee", valid_data)
        assert response.status_code == 302
        assert response.url == target

    def test_next_survives_the_merchant_picker(self, operator_client, merchant, valid_data):
        page = operator_client.get(CREATE, {"next": "/ec-accounts/new/"})
        assert 'name="next" value="/ec-accounts/new/"' in page.content.decode()
        response = operator_client.post(
            f"{CREATE}?merchant={merchant.pk}", {**valid_data, "next": "/ec-accounts/new/"}
        )
        assert response.url == "/ec-accounts/new/"

    @pytest.mark.parametrize(
        "target", ["https://evil.example/steal", "//evil.example/x", "javascript:alert(1)", "http:///evil"]
    )
    def test_foreign_next_is_ignored(self, merchant_client, valid_data, target):
        page = merchant_client.get(CREATE, {"next": target})
        assert page.context["next_url"] == ""
        response = merchant_client.post(CREATE, {**valid_data, "next": target})
        assert response.url == reverse("channels:detail", args=[SalesChannel.objects.get().pk])


# --- detail and edit -------------------------------------------------------------------------------
@pytest.mark.django_db
class TestDetailAndEdit:
    def test_detail_shows_fields_and_bound_ec_accounts(self, merchant_client, channel):
        account = ECAccount.objects.create(
            merchant=channel.merchant, platform="shopee", display_name="Acme main shop", sales_channel=channel
        )
        response = merchant_client.get(reverse("channels:detail", args=[channel.pk]))
        assert response.status_code == 200
        content = response.content.decode()
        assert "Acme main shop" in content
        assert f"/ec-accounts/{account.pk}/" in content
        assert "Good stock" in content
        assert "T-Cat home delivery" in content
        assert reverse("channels:edit", args=[channel.pk]) in content

    def test_detail_without_accounts(self, merchant_client, channel):
        response = merchant_client.get(reverse("channels:detail", args=[channel.pk]))
        assert "No EC account is bound to this channel yet." in response.content.decode()

    @pytest.mark.parametrize("name", ["channels:detail", "channels:edit"])
    def test_another_merchants_channel_is_404(self, merchant_client, other_channel, name):
        assert merchant_client.get(reverse(name, args=[other_channel.pk])).status_code == 404

    @pytest.mark.parametrize("name", ["channels:detail", "channels:edit"])
    def test_unassigned_merchant_is_404_for_operator(self, operator_client, third_merchant, name):
        hidden = factories.SalesChannelFactory(merchant=third_merchant, name="Hidden")
        assert operator_client.get(reverse(name, args=[hidden.pk])).status_code == 404
        assert operator_client.get(reverse(name, args=[999999])).status_code == 404

    def test_posting_to_another_merchants_channel_changes_nothing(
        self, merchant_client, other_channel, valid_data
    ):
        response = merchant_client.post(reverse("channels:edit", args=[other_channel.pk]), valid_data)
        assert response.status_code == 404
        other_channel.refresh_from_db()
        assert other_channel.name == "Beta Shopee"

    def test_edit_saves_and_keeps_the_merchant(self, merchant_client, channel, other_merchant, valid_data):
        url = reverse("channels:edit", args=[channel.pk])
        page = merchant_client.get(url)
        assert "Changes apply only to orders received after you save." in page.content.decode()
        assert page.context["form"]["name"].value() == "Acme Shopee"
        response = merchant_client.post(
            url, {**valid_data, "name": "Acme Shopee TW", "merchant": other_merchant.pk}
        )
        assert response.status_code == 302
        channel.refresh_from_db()
        assert channel.name == "Acme Shopee TW"
        assert channel.merchant.code == "acme"
        assert channel.match_rule == "barcode"

    def test_edit_may_keep_its_own_name_but_not_take_a_sibling_name(self, merchant_client, merchant, channel):
        factories.SalesChannelFactory(merchant=merchant, name="Acme momo")
        url = reverse("channels:edit", args=[channel.pk])
        base = {
            "match_rule": "sku",
            "primary_inventory_type": "good",
            "expiry_control": "none",
            "enabled": "on",
        }
        assert merchant_client.post(url, {**base, "name": "Acme Shopee"}).status_code == 302
        response = merchant_client.post(url, {**base, "name": "Acme momo"})
        assert response.status_code == 200
        assert "already exists" in response.context["form"].errors["name"][0]
        assert response.context["channel"].name == "Acme Shopee"
        channel.refresh_from_db()
        assert channel.name == "Acme Shopee"

    def test_edit_keeps_a_shipping_type_disabled_after_it_was_chosen(self, merchant_client, channel):
        ShippingType.objects.filter(code="tcat_home").update(enabled=False)
        url = reverse("channels:edit", args=[channel.pk])
        base = {"name": "Acme Shopee", "match_rule": "sku", "primary_inventory_type": "good"}
        response = merchant_client.post(
            url, {**base, "expiry_control": "none", "default_shipping_type": "tcat_home"}
        )
        assert response.status_code == 302
        channel.refresh_from_db()
        assert channel.default_shipping_type.code == "tcat_home"

    def test_invalid_edit_writes_nothing(self, merchant_client, channel):
        url = reverse("channels:edit", args=[channel.pk])
        data = {"name": "Renamed", "match_rule": "barcode", "primary_inventory_type": "good"}
        response = merchant_client.post(url, {**data, "expiry_control": "days", "expiry_days": ""})
        assert response.status_code == 200
        channel.refresh_from_db()
        assert (channel.name, channel.match_rule) == ("Acme Shopee", "sku")


# --- shipping types --------------------------------------------------------------------------------
@pytest.mark.django_db
class TestShippingTypes:
    def test_read_only_list_for_any_user(self, merchant_client):
        ShippingType.objects.filter(code="ok_pickup").update(enabled=False)
        response = merchant_client.get(reverse("channels:shipping_types"))
        assert response.status_code == 200
        content = response.content.decode()
        assert "7-ELEVEN pickup" in content and "ok_pickup" in content
        assert "Disabled" in content
        assert "Manage in administration" not in content
        assert "<form" not in content.split("<main", 1)[1]

    def test_admin_gets_a_link_to_manage_them(self, admin_user):
        response = login(admin_user).get(reverse("channels:shipping_types"))
        assert reverse("admin:channels_shippingtype_changelist") in response.content.decode()

    def test_admin_pages_are_registered(self, admin_user, channel):
        client = login(admin_user)
        assert client.get(reverse("admin:channels_shippingtype_changelist")).status_code == 200
        assert client.get(reverse("admin:channels_saleschannel_changelist")).status_code == 200
        change = client.get(reverse("admin:channels_saleschannel_change", args=[channel.pk]))
        assert change.status_code == 200
        assert 'name="merchant"' not in change.content.decode()
