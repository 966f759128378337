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
from ecbridge.integrations.services import connection, lifecycle, mapping_sync
from ecbridge.inventory.models import InventoryType, Product
from ecbridge.inventory.services import receipts
from ecbridge.inventory.services.stock import add_stock
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
# WMS products (sku, barcode, name); the same SKUs are listed in the merchants' sandbox shops.
PRODUCTS = {
    "acme": [
        ("ACME-TEA-001", "4710000000011", "Alishan oolong tea 150 g (阿里山烏龍茶)"),
        ("ACME-TEA-002", "4710000000028", "Sun Moon Lake black tea 100 g (日月潭紅茶)"),
        ("ACME-CAKE-01", "4710000000035", "Pineapple cake, box of 12 (鳳梨酥)"),
        ("ACME-NOOD-01", "4710000000042", "Tainan dry noodles, 4 packs (關廟麵)"),
        ("ACME-SAUCE-1", "4710000000059", "Soy paste 300 ml (醬油膏)"),
    ],
    "beta": [
        ("BETA-MUG-01", "4719999000016", "Ceramic mug 350 ml"),
        ("BETA-BAG-01", "4719999000023", "Canvas tote bag"),
        ("BETA-PEN-10", "4719999000030", "Gel pens, pack of 10"),
    ],
}
# Buyer orders waiting in each demo shop; "ACME-GIFT-BOX" is deliberately unknown to the warehouse
# so the demo shows an unknown product holding its order.
DEMO_ORDERS = {
    ("acme", "shopee"): [
        ([("ACME-TEA-001", 2), ("ACME-CAKE-01", 1)], "30001"),
        ([("ACME-NOOD-01", 3)], "30005"),
        ([("ACME-GIFT-BOX", 1), ("ACME-TEA-002", 1)], "30001"),
    ],
    ("acme", "momo"): [([("ACME-SAUCE-1", 2)], ""), ([("ACME-TEA-001", 1)], "")],
    ("beta", "shopify"): [([("BETA-MUG-01", 2)], ""), ([("BETA-BAG-01", 1), ("BETA-PEN-10", 2)], "")],
    ("beta", "momo"): [([("BETA-PEN-10", 5)], "")],
}
SHIPPING_MAPPINGS = {"shopee": {"30001": "tcat_home", "30005": "seven_pickup", "30006": "family_pickup"}}


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
            for code, rows in PRODUCTS.items():
                for sku, barcode, name in rows:
                    Product.objects.get_or_create(
                        merchant=merchants[code], sku=sku, defaults={"barcode": barcode, "name": name}
                    )
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
            for account in ECAccount.objects.filter(status="connected"):
                self._shop_contents(sandbox, account)
            for account in ECAccount.objects.filter(status="connected", inbound_push_enabled=True):
                run, _created = mapping_sync.request_sync(account, admin)
                mapping_sync.run_sync(run.pk)  # the demo opens with products already mapped
            self._stock(merchants, admin)
            # One account still to be authorized (yellow light): its store exists in the sandbox, so
            # "Authorize & Connect" on its page completes the whole OAuth flow.
            new_store = sandbox.post(
                "/sandbox/shopify/_console/shops", json={"name": "Acme Shopify (new)"}
            ).json()
            lifecycle.save_account(
                ECAccount(
                    merchant=merchants["acme"],
                    platform="shopify",
                    display_name="Acme Shopify (new)",
                    sales_channel=channels[("acme", "shopify")],
                    created_by=admin,
                ),
                credentials={"shop_domain": new_store["id"]},
            )

    def _stock(self, merchants, admin) -> None:
        """Opening stock in the warehouse, and one inbound receipt waiting to be put away so the
        demo can show the percentage push (Acme: Shopee 60 %, momo 40 %)."""
        good = InventoryType.objects.get(code="good")
        for code, rows in PRODUCTS.items():
            for index, (sku, _barcode, _name) in enumerate(rows):
                product = Product.objects.get(merchant=merchants[code], sku=sku)
                add_stock(product, good, 20 + 5 * index, reason="adjustment", reference="opening stock")
        products = {p.sku: p for p in Product.objects.filter(merchant=merchants["acme"])}
        receipts.create_receipt(
            merchants["acme"],
            "IN-DEMO-001",
            [(products["ACME-TEA-001"], good, 100), (products["ACME-CAKE-01"], good, 25)],
            note="Demo: complete the put-away to see 60 % go to Shopee and 40 % to momo.",
            user=admin,
        )

    def _shop_contents(self, sandbox: httpx.Client, account: ECAccount) -> None:
        """List the merchant's products in the sandbox shop, map the platform's shipping codes and
        leave a few buyer orders waiting to be fetched."""
        code = account.merchant.code
        shop = account.external_shop_id or account.credentials.get("entp_code", "")
        console = f"/sandbox/{account.platform}/_console"
        for sku, barcode, name in PRODUCTS[code]:
            sandbox.post(
                f"{console}/products",
                json={"shop": shop, "sku": sku, "barcode": barcode, "name": name, "stock": 0},
            )
        for platform_code, type_code in SHIPPING_MAPPINGS.get(account.platform, {}).items():
            account.shipping_mappings.get_or_create(
                platform_code=platform_code,
                defaults={"shipping_type": ShippingType.objects.get(code=type_code)},
            )
        for lines, shipping_code in DEMO_ORDERS.get((code, account.platform), []):
            body = {"shop": shop, "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines]}
            if shipping_code:
                body["shipping_code"] = shipping_code
            response = sandbox.post(f"{console}/orders", json=body)
            if response.status_code >= 400:
                self.stderr.write(f"demo order for {account}: {response.status_code} {response.text[:200]}")
