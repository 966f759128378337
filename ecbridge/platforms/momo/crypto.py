"""The encrypted ``dataList`` of some momo SCM order queries (SCM API FAQ V1.1, 訂單 Q1).

momo encrypts the rows with AES in ECB mode, PKCS5 padding, then base64-encodes them. The key
is the SCM master password right-padded with ``'0'`` to 16 characters (``abcd1234`` →
``abcd123400000000``), so AES-128. ECB has no IV (the FAQ's "IV is 0" means none is used).
The conversion of the vendor PDF is third-party: UNCONFIRMED beyond what the FAQ states."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_LENGTH = 16


class DataListDecryptError(ValueError):
    """The text is not base64 of AES-ECB/PKCS5 under this key (wrong password, or not encrypted).

    A ValueError, so a parse step that raises it is logged as a malformed response."""


def derive_key(password: str) -> bytes:
    """The AES key: the password right-padded with '0' to 16 characters."""
    raw = password.encode("utf-8")
    if not raw:
        raise ValueError("The SCM password is empty; it is the dataList key.")
    if len(raw) > KEY_LENGTH:
        raise ValueError(
            f"The SCM password is longer than {KEY_LENGTH} bytes; it cannot be the dataList key."
        )
    return raw.ljust(KEY_LENGTH, b"0")


def encrypt_text(plaintext: str, password: str) -> str:
    """AES-ECB/PKCS5 then base64 (what momo does; used by tests and tools)."""
    padder = padding.PKCS7(algorithms.AES.block_size).padder()
    data = padder.update(plaintext.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(derive_key(password)), modes.ECB()).encryptor()  # noqa: S305 (momo's choice)
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")


def decrypt_text(ciphertext: str, password: str) -> str:
    """Base64-decode, AES-ECB decrypt, strip PKCS5 padding, decode UTF-8."""
    try:
        raw = base64.b64decode("".join(ciphertext.split()), validate=True)
    except (binascii.Error, ValueError):
        raise DataListDecryptError("The encrypted dataList is not valid base64.") from None
    if not raw or len(raw) % (algorithms.AES.block_size // 8):
        raise DataListDecryptError("The encrypted dataList is not a whole number of AES blocks.")
    decryptor = Cipher(algorithms.AES(derive_key(password)), modes.ECB()).decryptor()  # noqa: S305
    data = decryptor.update(raw) + decryptor.finalize()
    unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
    try:
        data = unpadder.update(data) + unpadder.finalize()
        return data.decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise DataListDecryptError(
            "The dataList could not be decrypted with the SCM password (was it changed?)."
        ) from None


def decode_data_list(value: Any, password: str) -> list:
    """A response's ``dataList``: returned as is when momo sent plain rows, decrypted and parsed
    when it sent the encrypted string. Anything else is a malformed response."""
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        raise DataListDecryptError(f"Unexpected dataList of type {type(value).__name__}.")
    if not value.strip():
        return []
    text = decrypt_text(value, password)
    try:
        rows = json.loads(text)
    except ValueError:
        raise DataListDecryptError("The decrypted dataList is not JSON.") from None
    if not isinstance(rows, list):
        raise DataListDecryptError("The decrypted dataList is not a list.")
    return rows
