"""The encrypted dataList helper, against vectors computed once with the openssl command line
(independent of the cryptography library), e.g.

    printf '%s' '[]' | openssl enc -aes-128-ecb -K "$(printf 'Momo2024Pass!x00' | xxd -p)" -nosalt -base64 -A
"""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecbridge.platforms.momo.crypto import (
    DataListDecryptError,
    decode_data_list,
    decrypt_text,
    derive_key,
    encrypt_text,
)
from ecbridge.sandbox.momo import encrypt_data_list as sandbox_encrypt

ROWS_TEXT = '[{"completeOrderNo":"20240301123456-001-001-001","entpGoodsNo":"SKU-1","syslast":"2"}]'
# (password, plaintext, base64 ciphertext) from openssl enc -aes-128-ecb (PKCS#5 padding)
VECTORS = [
    (
        "abcd1234",
        ROWS_TEXT,
        "jWy0924OriRM5GlYd2AtyVj7Gdh3CCHkZ09Dzrdmklx29lobhC/+IERx5P567giPezCQwQMdW1viIpDENTD9JRrubTu/"
        "aVoGSvE4BzP4GUkrCjiCSOqotzPSrj6YDAGM",
    ),
    ("abcd1234", "測試", "0Ct89bF24151UyeXXMcGRA=="),
    ("Momo2024Pass!x", "[]", "wogCVR51Ft2JRbwt3cp2Cw=="),
    # a full block of plaintext gets a whole block of padding
    ("Momo2024Pass!x", "0123456789abcdef", "pOEiqtLFmHa1Ub50clsPZHY7Jm2AufQu1g+UBe7987U="),
]


def test_key_is_the_password_right_padded_with_zeros():
    # the FAQ's own example
    assert derive_key("abcd1234") == b"abcd123400000000"
    assert derive_key("Momo2024Pass!x") == b"Momo2024Pass!x00"
    assert derive_key("0123456789abcdef") == b"0123456789abcdef"


@pytest.mark.parametrize("password", ["", "x" * 17])
def test_key_rejects_passwords_that_cannot_be_a_key(password):
    with pytest.raises(ValueError):
        derive_key(password)


@pytest.mark.parametrize(("password", "plaintext", "ciphertext"), VECTORS)
def test_pinned_vectors(password, plaintext, ciphertext):
    assert encrypt_text(plaintext, password) == ciphertext
    assert decrypt_text(ciphertext, password) == plaintext


def test_decode_data_list_decrypts_and_parses_the_rows():
    password, _, ciphertext = VECTORS[0]
    assert decode_data_list(ciphertext, password) == json.loads(ROWS_TEXT)


def test_decode_data_list_passes_plain_rows_through():
    rows = [{"goodsCode": "1"}]
    assert decode_data_list(rows, "whatever1") is rows
    assert decode_data_list("", "whatever1") == []


def test_sandbox_encryption_agrees_with_the_pinned_vector():
    password, _, ciphertext = VECTORS[2]
    assert sandbox_encrypt([], password) == ciphertext
    rows = [{"completeOrderNo": "20240301123456-001-001-001", "goodsDtInfo": "紅色/M"}]
    assert decode_data_list(sandbox_encrypt(rows, "Secret123"), "Secret123") == rows


def test_wrong_password_is_a_decrypt_error_not_garbage():
    _, _, ciphertext = VECTORS[0]
    with pytest.raises(DataListDecryptError):
        decode_data_list(ciphertext, "wrongpass")


@pytest.mark.parametrize(
    "value",
    [
        "not base64!!",  # not base64
        "AAAA",  # 3 bytes: not whole AES blocks
        encrypt_text("not json", "abcd1234"),  # decrypts, but is not JSON
        encrypt_text('{"a": 1}', "abcd1234"),  # JSON, but not a list
        42,
        None,
    ],
)
def test_malformed_data_lists_raise_value_errors(value):
    with pytest.raises(DataListDecryptError) as info:
        decode_data_list(value, "abcd1234")
    assert isinstance(info.value, ValueError)  # http.py logs it as a malformed response


@given(
    plaintext=st.text(max_size=300),
    password=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=14),
)
def test_round_trip(plaintext, password):
    assert decrypt_text(encrypt_text(plaintext, password), password) == plaintext
