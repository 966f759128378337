"""Demo data for `make run` (idempotent): merchants, a user of every role, sales channels, and EC
accounts connected to shops in the platform sandbox. Prints the logins."""

from __future__ import annotations

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from ecbridge.channels.models import SalesChannel, ShippingType
from ecbridge.core.demo_consent import approve
from ecbridge.integrations.models import ECAccount
from ecbridge.integrations.services import connection, lifecycle
from ecbridge.inventory.models import InventoryType
from ecbridge.platforms import http as platform_http
from ecbridge.sandbox.app import SandboxTransport, create_app
from ecbridge.sandbox.store import SandboxStore
from ecbridge.tenancy.models import Merchant, Role, User

PASSWORD = "ecbridge-demo"
USERS = [
    ("admin", Role.WAREHOUSE_ADMIN, None, "warehouse admin (all merchants, Django admin)"),
    ("operator", Role.OPERATOR, ["acme", "beta"], "operator assigned to both merchants"),
    ("operator1", Role.OPERATOR, ["acme"], "operator assigned to Acme Foods only"),
    ("acme", Role.MERCHANT_USER, "acme", "merchant user of Acme Foods"),
]
MERCHANTS = [("acme", "Acme Foods"), ("beta", "Beta Goods")]
CHANNELS = {"acme": ["Shopee", "Shopify", "momo"], "beta": ["Shopee", "Shopify", "momo"]}


class Command(BaseCommand):
    help = "Load demo data (idempotent) and connect demo EC accounts to the platform sandbox."

    def handle(self, *args, **options):
        with transaction.atomic():
            merchants = {
                code: Merchant.objects.get_or_create(code=code, defaults={"name": name})[0]
                for code, name in MERCHANTS
            }
            self._users(merchants)
            channels = self._channels(merchants)
        if settings.SANDBOX_URL and not ECAccount.objects.exists():
            self._accounts(merchants, channels)
        lines = [f"    {u:<10} / {PASSWORD:<14} {desc}" for u, _r, _m, desc in USERS]
        return "\n".join(lines)

    def _users(self, merchants):
        for username, role, scope, _desc in USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"role": role})
            if not created:
                continue
            user.set_password(PASSWORD)
            user.is_staff = user.is_superuser = role == Role.WAREHOUSE_ADMIN
            if role == Role.MERCHANT_USER:
                user.merchant = merchants[scope]
            user.save()
            if role == Role.OPERATOR:
                user.assigned_merchants.set([merchants[c] for c in scope])

    def _channels(self, merchants):
        good = InventoryType.objects.get(code="good")
        near = InventoryType.objects.get(code="near_expiry")
        home = ShippingType.objects.get(code="tcat_home")
        channels = {}
        for code, platforms in CHANNELS.items():
            for platform in platforms:
                channel, _ = SalesChannel.objects.get_or_create(
                    merchant=merchants[code],
                    name=f"{merchants[code].name} {platform}",
                    defaults={
                        "primary_inventory_type": good,
                        "secondary_inventory_type": near,
                        "default_shipping_type": home,
                        "internal_name": f"{code}-{platform.lower()}",
                    },
                )
                channels[(code, platform.lower())] = channel
        return channels

    def _accounts(self, merchants, channels):
        """Create sandbox shops and connect accounts to them through the real flows (consent page,
        token exchange, connection test), in-process against the sandbox's own storage."""
        transport = SandboxTransport(create_app(SandboxStore(settings.SANDBOX_DB)))
        admin = User.objects.get(username="admin")
        with (
            platform_http.use_transport(transport),
            httpx.Client(transport=transport, base_url=settings.SANDBOX_URL) as sandbox,
        ):
            # Acme on momo (credentials), Acme on Shopee (OAuth), Beta on Shopify (OAuth), Beta on momo.
            for code, name in (("acme", "Acme momo Store"), ("beta", "Beta momo Store")):
                shop = sandbox.post("/sandbox/momo/_console/shops", json={"name": name}).json()
                account = ECAccount(
                    merchant=merchants[code],
                    platform="momo",
                    display_name=name,
                    sales_channel=channels[(code, "momo")],
                    created_by=admin,
                )
                lifecycle.save_account(account, credentials=shop["credentials"])
                connection.test_account(account)
            for code, platform, name in (
                ("acme", "shopee", "Acme Shopee Flagship"),
                ("beta", "shopify", "Beta Shopify"),
            ):
                shop = sandbox.post(f"/sandbox/{platform}/_console/shops", json={"name": name}).json()
                account = ECAccount(
                    merchant=merchants[code],
                    platform=platform,
                    display_name=name,
                    sales_channel=channels[(code, platform)],
                    created_by=admin,
                )
                creds = {"shop_domain": shop["id"]} if platform == "shopify" else {}
                lifecycle.save_account(account, credentials=creds)
                url = lifecycle.authorize_url(account, admin)
                params = approve(
                    sandbox, url, choose={"shop_id": str(shop["id"])} if platform == "shopee" else None
                )
                lifecycle.complete_authorization(account, params)
            for account in ECAccount.objects.filter(status="connected"):
                lifecycle.save_account(
                    account,
                    settings_data={
                        "fetch_orders_enabled": True,
                        "fetch_times": ["09:00", "14:00", "18:30"],
                        "inbound_push_enabled": True,
                        "push_percentage": 60 if account.platform == "shopee" else 40,
                    },
                )
            # One account that still needs its connection tested (yellow light).
            ECAccount.objects.create(
                merchant=merchants["acme"],
                platform="shopify",
                display_name="Acme Shopify (new)",
                sales_channel=channels[("acme", "shopify")],
                created_by=admin,
            )
