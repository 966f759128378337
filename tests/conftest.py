"""Shared fixtures: users of every role, merchants, channels, and the in-process sandbox."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import translation

from ecbridge.platforms import http as platform_http
from ecbridge.sandbox.app import SandboxTransport, create_app
from ecbridge.sandbox.store import SandboxStore
from tests import factories


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing is deliberately slow; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    """A request in Chinese leaves its language active on the thread; the next test starts in English."""
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _no_backoff_sleep(monkeypatch):
    """Retries back off for real in production; in tests they cost no time."""
    slept = []
    monkeypatch.setattr(platform_http, "sleep", slept.append)
    return slept


@pytest.fixture
def sandbox():
    """The platform sandbox mounted in-process; every platform call goes to it."""
    transport = SandboxTransport(create_app(SandboxStore(":memory:")))
    with platform_http.use_transport(transport):
        yield transport


@pytest.fixture
def sandbox_client(sandbox):
    """An httpx client for driving the sandbox's console API directly."""
    import httpx

    with httpx.Client(transport=sandbox, base_url="http://sandbox.test") as client:
        yield client


@pytest.fixture
def webhooks_to_django(sandbox, db):
    """Sandbox webhook/push deliveries go to our own endpoints through Django's test client
    (synchronously, like a platform POSTing to us). Returns the list of (url, status) seen."""
    from urllib.parse import urlsplit

    from django.test import Client as DjangoClient

    seen: list[tuple[str, int]] = []
    django_client = DjangoClient()

    def deliver(url: str, headers: dict[str, str], body: bytes) -> int:
        extra = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        types = [v for k, v in headers.items() if k.lower() == "content-type"]
        content_type = types[0] if types else "application/json"
        response = django_client.post(urlsplit(url).path, data=body, content_type=content_type, headers=extra)
        seen.append((url, response.status_code))
        return response.status_code

    sandbox.set_deliver(deliver)
    return seen


@pytest.fixture
def merchant(db):
    return factories.MerchantFactory(name="Acme Foods", code="acme")


@pytest.fixture
def other_merchant(db):
    return factories.MerchantFactory(name="Beta Goods", code="beta")


@pytest.fixture
def admin_user(db):
    return factories.UserFactory(username="admin", role="warehouse_admin", is_staff=True, is_superuser=True)


@pytest.fixture
def operator(merchant, other_merchant):
    user = factories.UserFactory(username="operator", role="operator")
    user.assigned_merchants.set([merchant, other_merchant])
    return user


@pytest.fixture
def single_operator(merchant):
    user = factories.UserFactory(username="operator1", role="operator")
    user.assigned_merchants.set([merchant])
    return user


@pytest.fixture
def merchant_user(merchant):
    return factories.UserFactory(username="acme", role="merchant_user", merchant=merchant)


@pytest.fixture
def other_merchant_user(other_merchant):
    return factories.UserFactory(username="beta", role="merchant_user", merchant=other_merchant)


def _login(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def operator_client(operator):
    return _login(operator)


@pytest.fixture
def merchant_client(merchant_user):
    return _login(merchant_user)


@pytest.fixture
def other_merchant_client(other_merchant_user):
    return _login(other_merchant_user)


@pytest.fixture
def channel(merchant):
    return factories.SalesChannelFactory(merchant=merchant, name="Acme Shopee")


@pytest.fixture
def other_channel(other_merchant):
    return factories.SalesChannelFactory(merchant=other_merchant, name="Beta Shopee")
