"""Shopee signing against the published base strings and the brief's self-computed vectors
(platforms-global.md §1.3 and §1.10)."""

import hashlib
import hmac
import json

from hypothesis import given
from hypothesis import strategies as st

from ecbridge.platforms.shopee import signing

KEY = "test_partner_key"
TOKEN = "59777174636562737266615546704c6d"
PUSH_URL = "https://wms.example.com/shopee/push"
PUSH_BODY = (
    b'{"data":{"items":[],"ordersn":"220810QSK8S7BX","status":"PROCESSED","completed_scenario":"",'
    b'"update_time":1660123127},"shop_id":727720655,"code":3,"timestamp":1660123127}'
)


def test_published_shop_base_string():
    assert (
        signing.base_string(2001887, "/api/v2/shop/get_shop_info", 1655714431, TOKEN, 14701711)
        == "2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711"
    )


def test_published_public_base_strings():
    assert (
        signing.base_string(2001887, "/api/v2/public/get_shops_by_partner", 1655714431)
        == "2001887/api/v2/public/get_shops_by_partner1655714431"
    )
    assert signing.base_string(10090, "/api/v2/shop/auth_partner", 1594897040) == (
        "10090/api/v2/shop/auth_partner1594897040"
    )


def test_vector_public_get_shops_by_partner():
    assert signing.sign_public(KEY, 2001887, "/api/v2/public/get_shops_by_partner", 1655714431) == (
        "bfd95b21eda3ed2c80e9373e8c0ce80bdc39b2dc02e4c6dc19e1413c75f8ab09"
    )


def test_vector_shop_get_shop_info():
    assert signing.sign_shop(KEY, 2001887, "/api/v2/shop/get_shop_info", 1655714431, TOKEN, 14701711) == (
        "9fdae5aeed86e753249982ec04aa54339280f12d3f456b9e3f7d8ee91e66a2b3"
    )


def test_vector_auth_token_get():
    assert signing.sign_public(KEY, "2001887", "/api/v2/auth/token/get", "1655714431") == (
        "4347600f52b50a77f5ecee90bf489adf3cec2d59d3c2febe004674f37def5451"
    )


def test_key_is_used_as_utf8_text_not_hex_decoded():
    wrong = hmac.new(
        bytes.fromhex("ab" * 16), b"2001887/api/v2/auth/token/get1655714431", hashlib.sha256
    ).hexdigest()
    right = signing.sign_public("ab" * 16, 2001887, "/api/v2/auth/token/get", 1655714431)
    assert right != wrong
    assert right == signing.hmac_hex("ab" * 16, "2001887/api/v2/auth/token/get1655714431")


def test_vector_push_signature():
    assert signing.push_signature(KEY, PUSH_URL, PUSH_BODY) == (
        "0ab08ec854a3eab14a1b38eb55a6840825b36330a473f4e74ef2bfc9430f2251"
    )
    assert signing.verify_push(
        KEY, PUSH_URL, PUSH_BODY, "0ab08ec854a3eab14a1b38eb55a6840825b36330a473f4e74ef2bfc9430f2251"
    )


def test_push_verification_rejects_what_it_must():
    good = signing.push_signature(KEY, PUSH_URL, PUSH_BODY)
    assert not signing.verify_push("other_key", PUSH_URL, PUSH_BODY, good)
    assert not signing.verify_push(KEY, PUSH_URL + "/", PUSH_BODY, good)
    assert not signing.verify_push(KEY, PUSH_URL, PUSH_BODY + b" ", good)
    # Re-serialised JSON is not the raw body.
    assert not signing.verify_push(KEY, PUSH_URL, json.dumps(json.loads(PUSH_BODY)).encode(), good)
    assert not signing.verify_push(KEY, PUSH_URL, PUSH_BODY, "")
    assert not signing.verify_push(KEY, PUSH_URL, PUSH_BODY, None)
    assert not signing.verify_push("", PUSH_URL, PUSH_BODY, good)
    assert not signing.verify_push(KEY, PUSH_URL, PUSH_BODY, "Bearer " + good)
    assert not signing.verify_push(KEY, PUSH_URL, PUSH_BODY, "é" * 64)
    assert signing.verify_push(KEY, PUSH_URL, PUSH_BODY, good.upper())  # hex case does not matter


@given(body=st.binary(max_size=300), flip=st.integers(min_value=0, max_value=299))
def test_push_signature_roundtrip_and_any_change_breaks_it(body, flip):
    header = signing.push_signature(KEY, PUSH_URL, body)
    assert signing.verify_push(KEY, PUSH_URL, body, header)
    if body:
        index = flip % len(body)
        changed = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
        assert not signing.verify_push(KEY, PUSH_URL, changed, header)
