"""Fake Shopify for development and tests (see sandbox.py)."""

from ecbridge.sandbox.shopify.sandbox import ShopifySandbox

__all__ = ["ShopifySandbox"]
