"""The demo data: the "new" Shopify store waiting to be connected really can be, through the
consent page of the sandbox the demo runs against."""

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command

from ecbridge.core.demo_consent import approve
from ecbridge.integrations.models import ECAccount
from ecbridge.integrations.services import lifecycle
from ecbridge.platforms import http as platform_http
from ecbridge.sandbox.app import SandboxTransport, create_app
from ecbridge.sandbox.store import SandboxStore
from ecbridge.tenancy.models import User

pytestmark = pytest.mark.django_db


def test_the_new_demo_shopify_store_connects(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "SANDBOX_DB", str(tmp_path / "sandbox.db"))
    call_command("seed_demo", verbosity=0)
    account = ECAccount.objects.get(display_name="Acme Shopify (new)")
    assert account.status == "not_verified" and account.credentials["shop_domain"].endswith(".myshopify.com")
    transport = SandboxTransport(create_app(SandboxStore(settings.SANDBOX_DB)))
    admin = User.objects.get(username="admin")
    with platform_http.use_transport(transport), httpx.Client(transport=transport) as sandbox:
        params = approve(sandbox, lifecycle.authorize_url(account, admin))
        ok, message = lifecycle.complete_authorization(account, params)
    account.refresh_from_db()
    assert ok, message
    assert account.status == "connected" and account.external_shop_id == account.credentials["shop_domain"]
