"""Redaction with known secret strings: none may survive, and the diagnostic fields must."""

import json
import string

import httpx
import pytest
from hypothesis import example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from ecbridge.apilog.redaction import (
    MASK,
    is_secret_key,
    redact_body,
    redact_headers,
    redact_text,
    redact_url,
)

PASSWORD = "Pa55w0rd-KNOWN-1"
ACCESS_TOKEN = "atok-KNOWN-7f3a9c2e1d"
REFRESH_TOKEN = "rtok-KNOWN-55aa66bb"
PARTNER_KEY = "pkey-KNOWN-0123456789abcdef"
SIGN = "c0ffee00deadbeef1234567890abcdef"
ENTP_PWD = "MomoPwd-KNOWN"
OTP_BACK_NO = "042"
SHOPIFY_TOKEN = "shpat_0123456789abcdef0123456789abcdef"
CLIENT_SECRET = "csecret-KNOWN-abc123"
OAUTH_CODE = "4f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c"

ALL_SECRETS = [
    PASSWORD,
    ACCESS_TOKEN,
    REFRESH_TOKEN,
    PARTNER_KEY,
    SIGN,
    ENTP_PWD,
    SHOPIFY_TOKEN,
    CLIENT_SECRET,
]


def assert_no_secret(text: str, secrets=ALL_SECRETS):
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked into {text!r}"


# --- keys ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "key",
    [
        "password",
        "Password",
        "passwd",
        "pwd",
        "entpPwd",
        "client_secret",
        "clientSecret",
        "secret",
        "access_token",
        "accessToken",
        "refresh_token",
        "X-Shopify-Access-Token",
        "Authorization",
        "Proxy-Authorization",
        "partner_key",
        "partnerKey",
        "api_key",
        "X-Api-Key",
        "sign",
        "api_sign",
        "signature",
        "X-WC-Webhook-Signature",
        "X-Shopify-Hmac-Sha256",
        "hmac",
        "otpBackNo",
        "otp_back_no",
        "otp",
        "Cookie",
        "Set-Cookie",
        "auth_code",
        "private_key",
        "app_secret",
    ],
)
def test_secret_keys(key):
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "entpCode",
        "entp_code",
        "entpID",
        "shop_id",
        "partner_id",
        "order_sn",
        "orderNo",
        "status_code",
        "error_code",
        "shipping_code",
        "goodsCode",
        "code",
        "token_type",
        "sign_method",
        "timestamp",
        "tracking_number",
        "request_id",
        "message",
        "error",
        "expire_in",
        "signed_at_count",
        "design",
    ],
)
def test_non_secret_keys(key):
    assert not is_secret_key(key)


# --- bodies ----------------------------------------------------------------------------------------
def test_momo_nested_login_info_masked_and_business_fields_kept():
    body = json.dumps(
        {
            "doAction": "unsendCompanyQuery",
            "loginInfo": {
                "entpID": "12345678",
                "entpCode": "654321",
                "entpPwd": ENTP_PWD,
                "otpBackNo": OTP_BACK_NO,
            },
            "sendInfo": {"orderNo": "20240501123456", "completeOrderNo": "20240501123456-001-001-001"},
        }
    ).encode()
    out = json.loads(redact_body(body, []))
    assert out["loginInfo"]["entpPwd"] == MASK
    assert out["loginInfo"]["otpBackNo"] == MASK
    assert out["loginInfo"]["entpCode"] == "654321"
    assert out["loginInfo"]["entpID"] == "12345678"
    assert out["sendInfo"]["orderNo"] == "20240501123456"
    assert out["doAction"] == "unsendCompanyQuery"


def test_numeric_secret_values_are_masked_too():
    out = json.loads(redact_body('{"loginInfo": {"otpBackNo": 42, "entpCode": 654321}}', []))
    assert out["loginInfo"] == {"otpBackNo": MASK, "entpCode": 654321}


def test_shopee_token_exchange_body():
    body = json.dumps(
        {
            "code": OAUTH_CODE,
            "partner_id": 2001887,
            "shop_id": 77001,
            "access_token": ACCESS_TOKEN,
            "refresh_token": REFRESH_TOKEN,
            "expire_in": 14400,
            "error": "",
            "request_id": "req-123",
        }
    )
    out = redact_body(body, [])
    assert_no_secret(out, [ACCESS_TOKEN, REFRESH_TOKEN, OAUTH_CODE])
    parsed = json.loads(out)
    assert parsed["shop_id"] == 77001
    assert parsed["partner_id"] == 2001887
    assert parsed["request_id"] == "req-123"
    assert parsed["expire_in"] == 14400


def test_error_codes_under_code_key_survive():
    out = json.loads(
        redact_body('{"code": "error_param_shop_id_not_found", "status": 404, "other": {"code": 0}}', [])
    )
    assert out == {"code": "error_param_shop_id_not_found", "status": 404, "other": {"code": 0}}


def test_lists_and_deep_nesting():
    body = {
        "shops": [{"shop_id": 1, "auth": {"credentials": {"password": PASSWORD}}}],
        "tokens": [ACCESS_TOKEN],
    }
    out = redact_body(json.dumps(body), [ACCESS_TOKEN])
    assert_no_secret(out)
    assert json.loads(out)["shops"][0]["shop_id"] == 1


def test_secret_inside_a_json_string_value():
    """A platform echoing a URL or a form in an error message must not leak it."""
    body = json.dumps(
        {
            "message": f"bad request to /api?access_token={ACCESS_TOKEN}&shop_id=9",
            "detail": f'password="{PASSWORD}"',
        }
    )
    out = json.loads(redact_body(body, []))
    assert ACCESS_TOKEN not in out["message"]
    assert "shop_id=9" in out["message"]
    assert PASSWORD not in out["detail"]


def test_form_encoded_body():
    body = (
        f"grant_type=authorization_code&code={OAUTH_CODE}&client_id=sandbox-client"
        f"&client_secret={CLIENT_SECRET}&password={PASSWORD}&shop_id=55"
    ).encode()
    out = redact_body(body, [])
    assert_no_secret(out, [OAUTH_CODE, CLIENT_SECRET, PASSWORD])
    assert "grant_type=authorization_code" in out
    assert "client_id=sandbox-client" in out
    assert "shop_id=55" in out


def test_single_pair_form_body():
    assert redact_body(f"password={PASSWORD}", []) == f"password={MASK}"


def test_xml_and_free_text_bodies():
    xml = f"<req><entpCode>654321</entpCode><entpPwd>{ENTP_PWD}</entpPwd><orderNo>A1</orderNo></req>"
    out = redact_body(xml, [])
    assert ENTP_PWD not in out
    assert "<entpCode>654321</entpCode>" in out and "<orderNo>A1</orderNo>" in out
    text = (
        f"Upstream said: invalid partner_key={PARTNER_KEY}; "
        f"Authorization: Bearer {ACCESS_TOKEN} (order 20240501)"
    )
    out = redact_body(text, [])
    assert_no_secret(out)
    assert "order 20240501" in out


def test_known_secret_values_masked_wherever_they_appear():
    body = f"<html>token was {ACCESS_TOKEN} and key {PARTNER_KEY}</html>"
    out = redact_body(body, [ACCESS_TOKEN, PARTNER_KEY])
    assert_no_secret(out)
    assert out.count(MASK) == 2


def test_known_secret_url_and_json_escaped_spellings():
    secret = 'a/b+c d&e"f'
    body = '{"echo": "q=a%2Fb%2Bc%20d%26e%22f", "raw": "a/b+c d&e\\"f", "plus": "a%2Fb%2Bc+d%26e%22f"}'
    out = redact_body(body, [secret])
    assert "a%2Fb%2Bc" not in out
    assert "a/b+c d&e" not in out


def test_short_known_values_do_not_eat_order_numbers():
    """A 3-digit OTP suffix is masked under its key, never replaced across the whole body."""
    out = json.loads(redact_body('{"otpBackNo": "042", "orderNo": "2024050420420", "status": 200}', ["042"]))
    assert out == {"otpBackNo": MASK, "orderNo": "2024050420420", "status": 200}


def test_size_cap_after_redaction():
    big = json.dumps({"password": PASSWORD, "items": ["x" * 50] * 100})
    out = redact_body(big, [], max_chars=200)
    assert out.startswith('{"password": "********"')
    assert len(out) < 260
    assert "more characters]" in out
    assert PASSWORD not in out


def test_body_under_cap_is_untouched_by_cap():
    assert redact_body('{"a": 1}', [], max_chars=8) == '{"a": 1}'


def test_empty_and_binary_bodies():
    assert redact_body(None, []) == ""
    assert redact_body(b"", []) == ""
    assert isinstance(redact_body(b"\xff\xfe\x00garbage", []), str)


# --- URLs and headers -------------------------------------------------------------------------------
def test_shopee_signed_url():
    url = (
        "https://partner.shopeemobile.com/api/v2/order/get_order_list?partner_id=2001887&timestamp=1700000000"
        f"&access_token={ACCESS_TOKEN}&shop_id=77001&sign={SIGN}&order_status=READY_TO_SHIP"
    )
    out = redact_url(url, [])
    assert_no_secret(out, [ACCESS_TOKEN, SIGN])
    for kept in ("partner_id=2001887", "timestamp=1700000000", "shop_id=77001", "order_status=READY_TO_SHIP"):
        assert kept in out
    assert out.startswith("https://partner.shopeemobile.com/api/v2/order/get_order_list?")


def test_url_userinfo_fragment_and_known_values_in_path():
    out = redact_url(
        f"https://user:{PASSWORD}@h.example/cb/{PARTNER_KEY}#access_token={ACCESS_TOKEN}", [PARTNER_KEY]
    )
    assert_no_secret(out)
    assert out.startswith("https://user:")


def test_headers_masked_by_name_and_others_kept():
    headers = httpx.Headers(
        {
            "Authorization": f"Bearer {ACCESS_TOKEN}",
            "X-Shopify-Access-Token": SHOPIFY_TOKEN,
            "Cookie": f"session={PASSWORD}",
            "X-Shopify-Hmac-Sha256": "aGVsbG8gd29ybGQgaG1hYw==",
            "Content-Type": "application/json",
            "X-Request-Id": "req-9",
        }
    )
    out = redact_headers(headers, [])
    assert_no_secret(out)
    assert "aGVsbG8gd29ybGQgaG1hYw==" not in out
    assert "Content-Type: application/json" in out
    assert "X-Request-Id: req-9" in out
    assert f"Authorization: {MASK}" in out


def test_plain_dict_headers_and_known_values_in_other_headers():
    out = redact_headers({"X-Echo": f"k={PARTNER_KEY}", "Accept": "*/*"}, [PARTNER_KEY])
    assert PARTNER_KEY not in out
    assert "Accept: */*" in out


def test_redact_text_ignores_empty_values():
    assert redact_text("abc", ["", None]) == "abc"


# --- property: any known secret, anywhere in a JSON document, is gone --------------------------------
secret_values = st.text(alphabet=string.ascii_letters + string.digits + "-_./+=", min_size=8, max_size=40)


@hsettings(max_examples=60, deadline=None)
@given(
    secret=secret_values, key=st.sampled_from(["note", "data", "x", "message"]), prefix=st.text(max_size=10)
)
@example(secret="00000000", key="note", prefix="\x10")  # the secret follows a \u0010 escape
def test_known_secret_never_survives(secret, key, prefix):
    body = json.dumps({key: prefix + secret, "shop_id": 77001})
    out = redact_body(body, [secret])
    assert secret not in out
    assert json.loads(out)["shop_id"] == 77001


def test_basic_credentials_masked_but_basic_words_kept():
    creds = "dXNlcjpzM2NyZXQtcGFzcw=="  # base64("user:s3cret-pass")
    out = redact_body(f"proxy said: Basic {creds} rejected", [])
    assert creds not in out
    out = json.loads(redact_body('{"title": "Basic Collection tee", "sku": "BASIC-01"}', []))
    assert out == {"title": "Basic Collection tee", "sku": "BASIC-01"}
