"""Shopify HMACs against the published vectors (shopify_python_api tests, from Shopify's docs) and
the self-computed webhook vector in reference/platforms-global.md §2."""

import hashlib
import hmac

from django.http import QueryDict
from hypothesis import given
from hypothesis import strategies as st

from ecbridge.platforms.shopify import signing
from ecbridge.sandbox.shopify import signing as sandbox_signing

PLAIN_PARAMS = {
    "shop": "some-shop.myshopify.com",
    "code": "a94a110d86d2452eb3e2af4cfb8a3828",
    "timestamp": "1337178173",
}
PLAIN_HMAC = "2cb1a277650a659f1b11e92a4a64275b128e037f2c3390e3c8fd2d8721dac9e2"
ARRAY_HMAC = "b93b9f82996f6f8bf9f1b7bbddec284c8fabacdc4e12dc80550b4705f3003b1e"
WEBHOOK_BODY = b'{"id":820982911946154508,"email":"jon@example.com"}'
WEBHOOK_HMAC = "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8="


def test_published_vector_plain():
    assert signing.oauth_message(PLAIN_PARAMS) == (
        "code=a94a110d86d2452eb3e2af4cfb8a3828&shop=some-shop.myshopify.com&timestamp=1337178173"
    )
    assert signing.oauth_hmac("hush", PLAIN_PARAMS) == PLAIN_HMAC
    assert signing.verify_oauth_hmac("hush", {**PLAIN_PARAMS, "hmac": PLAIN_HMAC})


def test_published_vector_array_params():
    params = {"shop": "some-shop.myshopify.com", "ids[]": [2, 1]}
    assert signing.oauth_message(params) == 'ids=["2", "1"]&shop=some-shop.myshopify.com'
    assert signing.oauth_hmac("hush", params) == ARRAY_HMAC
    # as a query string parsed by Django: ids[]=2&ids[]=1 keeps both values, in order
    query = QueryDict(f"shop=some-shop.myshopify.com&ids[]=2&ids[]=1&hmac={ARRAY_HMAC}")
    assert signing.verify_oauth_hmac("hush", query)
    swapped = QueryDict(f"shop=some-shop.myshopify.com&ids[]=1&ids[]=2&hmac={ARRAY_HMAC}")
    assert not signing.verify_oauth_hmac("hush", swapped)


def test_self_computed_webhook_vector():
    assert signing.webhook_hmac("hush", WEBHOOK_BODY) == WEBHOOK_HMAC
    assert signing.verify_webhook_hmac("hush", WEBHOOK_BODY, WEBHOOK_HMAC)
    assert not signing.verify_webhook_hmac("hush", WEBHOOK_BODY + b" ", WEBHOOK_HMAC)
    assert not signing.verify_webhook_hmac("hush", WEBHOOK_BODY, "")
    assert not signing.verify_webhook_hmac("hush", WEBHOOK_BODY, None)
    assert not signing.verify_webhook_hmac("", WEBHOOK_BODY, WEBHOOK_HMAC)


def test_sandbox_implementation_agrees_with_the_vectors():
    """The sandbox signs with its own code; it must meet the same published vectors."""
    assert sandbox_signing.query_hmac("hush", PLAIN_PARAMS) == PLAIN_HMAC
    assert (
        sandbox_signing.query_hmac("hush", {"shop": "some-shop.myshopify.com", "ids[]": [2, 1]}) == ARRAY_HMAC
    )
    assert sandbox_signing.body_hmac("hush", WEBHOOK_BODY) == WEBHOOK_HMAC


def test_hmac_and_legacy_signature_are_left_out():
    with_extra = {**PLAIN_PARAMS, "hmac": "x", "signature": "y"}
    assert signing.oauth_message(with_extra) == signing.oauth_message(PLAIN_PARAMS)


def test_delimiters_are_escaped_so_params_cannot_be_shifted():
    # "a=1&b=2" as one value must not sign like two params a=1 and b=2
    assert signing.oauth_message({"a": "1&b=2"}) == "a=1%26b=2"
    assert signing.oauth_message({"a": "1", "b": "2"}) == "a=1&b=2"
    assert signing.oauth_message({"k=ey": "v%"}) == "k%3Dey=v%25"
    assert signing.oauth_message({"a%": "x"}) == "a%25=x"
    assert signing.oauth_hmac("s", {"a": "1&b=2"}) != signing.oauth_hmac("s", {"a": "1", "b": "2"})


def test_missing_or_wrong_hmac_is_rejected():
    assert not signing.verify_oauth_hmac("hush", PLAIN_PARAMS)
    assert not signing.verify_oauth_hmac("hush", {**PLAIN_PARAMS, "hmac": PLAIN_HMAC[:-1] + "0"})
    assert not signing.verify_oauth_hmac("other", {**PLAIN_PARAMS, "hmac": PLAIN_HMAC})
    assert not signing.verify_oauth_hmac("", {**PLAIN_PARAMS, "hmac": PLAIN_HMAC})
    tampered = {**PLAIN_PARAMS, "shop": "evil.myshopify.com", "hmac": PLAIN_HMAC}
    assert not signing.verify_oauth_hmac("hush", tampered)


def test_uppercase_hex_hmac_is_accepted():
    assert signing.verify_oauth_hmac("hush", {**PLAIN_PARAMS, "hmac": PLAIN_HMAC.upper()})


params_strategy = st.dictionaries(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8).filter(
        lambda k: k not in ("hmac", "signature") and not k.endswith("[]")
    ),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    max_size=6,
)


@given(params=params_strategy, secret=st.text(min_size=1, max_size=10))
def test_client_and_sandbox_agree_and_any_change_breaks_the_hmac(params, secret):
    digest = signing.oauth_hmac(secret, params)
    assert digest == sandbox_signing.query_hmac(secret, params)
    expected_message = "&".join(
        sorted(
            f"{k.replace('%', '%25').replace('=', '%3D')}={v.replace('%', '%25')}".replace("&", "%26")
            for k, v in params.items()
        )
    )
    assert digest == hmac.new(secret.encode(), expected_message.encode(), hashlib.sha256).hexdigest()
    assert signing.verify_oauth_hmac(secret, {**params, "hmac": digest})
    for key in params:
        changed = {**params, key: params[key] + "x", "hmac": digest}
        assert not signing.verify_oauth_hmac(secret, changed)
