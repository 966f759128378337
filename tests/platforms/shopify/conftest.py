"""Shopify fixtures: a sandbox shop and accounts connected through the real OAuth flow."""

import pytest

from ecbridge.platforms.base import AccountContext
from tests.platforms.shopify.helpers import authorize, make_ctx, new_shop, with_tokens


@pytest.fixture
def shop(sandbox_client) -> dict:
    return new_shop(sandbox_client)


@pytest.fixture
def connected(sandbox_client, shop) -> AccountContext:
    """An account holding a non-expiring offline token."""
    ctx = make_ctx(shop["id"])
    return with_tokens(ctx, authorize(sandbox_client, ctx))


@pytest.fixture
def connected_expiring(sandbox_client, shop) -> AccountContext:
    """An account holding an expiring offline token and its refresh token."""
    ctx = make_ctx(shop["id"], expiring_tokens=True)
    return with_tokens(ctx, authorize(sandbox_client, ctx))
