"""momo 購物網 SCM client (reference/platforms-taiwan.md §2A).

No tokens: every JSON body carries ``loginInfo{entpID, entpCode, entpPwd, otpBackNo}``. The
calls go to dispatcher servlets (``GoodsServlet.do`` / ``OrderServlet.do`` with ``doAction``)
or a few REST-like ``*.scm`` paths. momo answers HTTP 200 with ``{"ERROR": "..."}`` or
``{"basicCheckMsgList": [...]}`` when it refuses, and ``{"dataList": ...}`` when it does not.
Field spellings come from a third-party conversion of the vendor PDF (UNCONFIRMED)."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from django.conf import settings as django_settings
from django.utils.translation import gettext

from ecbridge.platforms.base import Client, ConnectionInfo
from ecbridge.platforms.errors import AuthError, PlatformError, RateLimited, TransientError
from ecbridge.platforms.http import parse_retry_after
from ecbridge.platforms.momo.crypto import decode_data_list

TAIPEI = ZoneInfo("Asia/Taipei")
DEFAULT_MIN_INTERVAL_SECONDS = 1.0  # momo documents no limit (UNCONFIRMED); be polite: ≤1 req/s

# How momo words a refusal. It sends no machine-readable codes, only text (UNCONFIRMED).
LOGIN_MARKERS = ("查無此供應商", "登入失敗", "密碼", "OTP", "otpBackNo", "entpPwd", "entpID", "entpCode")
VENDOR_NOT_FOUND_MARKERS = ("查無此供應商",)
IP_PATTERN = re.compile(r"(?<![A-Za-z])IP(?![A-Za-z])|白名單")
BUSY_MARKERS = ("系統忙碌", "請稍後再試", "流量", "too many requests", "busy")

CREDENTIAL_KEYS = ("entp_id", "entp_code", "entp_pwd", "otp_back_no")

# Politeness pacing, shared by every client in the process, per momo host and vendor.
_pace_lock = threading.Lock()
_last_call: dict[tuple[str, str], float] = {}
clock = time.monotonic
sleep = time.sleep  # tests replace it


class MomoClient(Client):
    # --- plumbing --------------------------------------------------------------------------------
    @property
    def api_base(self) -> str:
        return str(self.settings.get("api_base") or "https://scmapi.momoshop.com.tw").rstrip("/")

    def login_info(self) -> dict[str, str]:
        creds = self.ctx.credentials
        missing = [k for k in CREDENTIAL_KEYS if not creds.get(k)]
        if missing:
            raise AuthError(
                gettext("The momo credentials are incomplete (missing: %(fields)s).")
                % {"fields": ", ".join(missing)},
                code="credentials_missing",
            )
        return {
            "entpID": creds["entp_id"],
            "entpCode": creds["entp_code"],
            "entpPwd": creds["entp_pwd"],
            "otpBackNo": creds["otp_back_no"],
        }

    def _pace(self) -> None:
        """Keep at least ``min_interval_seconds`` between calls for one vendor in this process.
        A slot is reserved under the lock, then the wait happens outside it."""
        interval = float(self.settings.get("min_interval_seconds", DEFAULT_MIN_INTERVAL_SECONDS) or 0)
        if interval <= 0:
            return
        key = (self.api_base, self.ctx.credentials.get("entp_code", ""))
        with _pace_lock:
            now = clock()
            start = max(now, _last_call.get(key, -math.inf) + interval)
            _last_call[key] = start
        if start > now:
            sleep(start - now)

    def post(self, path: str, body: dict[str, Any], *, operation: str, parse=None) -> Any:
        """POST ``body`` plus ``loginInfo`` as JSON to ``path``; ``parse`` receives the checked
        response document (default: the document itself)."""
        payload = {**body, "loginInfo": self.login_info()}
        content = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._pace()
        return self.http.send(
            "POST",
            f"{self.api_base}/{path.lstrip('/')}",
            operation=operation,
            parse=lambda response: (parse or (lambda doc: doc))(self.check(response)),
            content=content,
            headers={"Content-Type": "application/json; charset=UTF-8", "Accept": "application/json"},
        )

    # --- error mapping -----------------------------------------------------------------------------
    def check(self, response: httpx.Response) -> dict[str, Any]:
        """Map momo's refusals to typed errors; return the JSON document of a success."""
        status = response.status_code
        if status == 429:
            raise RateLimited(
                gettext("momo is throttling requests (HTTP 429)."),
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                code="http_429",
                status=status,
            )
        if status >= 500:
            raise TransientError(
                gettext("momo server error (HTTP %(status)s).") % {"status": status},
                code=f"http_{status}",
                status=status,
            )
        doc = _json_or_none(response)
        message = _refusal_message(doc) if doc is not None else ""
        # How momo refuses an unregistered caller IP is UNCONFIRMED: a 403 or a message naming the IP.
        if status == 403 or (message and IP_PATTERN.search(message)):
            raise AuthError(
                self._ip_message(message or f"HTTP {status}"), code="ip_not_allowed", status=status
            )
        if status == 401:
            raise AuthError(self._login_message(message or "HTTP 401"), code="login_failed", status=status)
        if status >= 300 and doc is None:
            raise PlatformError(
                gettext("momo answered HTTP %(status)s; check the API base URL.") % {"status": status},
                code=f"http_{status}",
                status=status,
            )
        if doc is None:
            raise ValueError("momo returned a body that is not JSON")
        if not isinstance(doc, dict):
            raise TypeError(f"momo returned a JSON {type(doc).__name__}, not an object")
        if message:
            if any(m in message for m in LOGIN_MARKERS):
                code = (
                    "vendor_not_found"
                    if any(m in message for m in VENDOR_NOT_FOUND_MARKERS)
                    else "login_failed"
                )
                raise AuthError(self._login_message(message), code=code, status=status)
            if any(m.lower() in message.lower() for m in BUSY_MARKERS):
                raise RateLimited(message, code="busy", status=status)
            code = "basicCheckMsgList" if doc.get("basicCheckMsgList") else "ERROR"
            raise PlatformError(message, code=code, status=status)
        if status >= 300:
            raise PlatformError(
                gettext("momo answered HTTP %(status)s.") % {"status": status},
                code=f"http_{status}",
                status=status,
            )
        return doc

    def _login_message(self, momo_message: str) -> str:
        if any(m in momo_message for m in VENDOR_NOT_FOUND_MARKERS):
            return gettext(
                "momo found no vendor for this Entp ID and Entp Code (momo said: %(message)s). Entp Code is "
                "the 6-digit vendor code and Entp ID the 8-digit company number (統一編號)."
            ) % {"message": momo_message}
        return gettext(
            "momo rejected the SCM login (momo said: %(message)s). The SCM password was probably changed in "
            "momo: enter the new one in Entp Pwd, check OTP Back No (SCM function C1209), then Test "
            "Connection and Save."
        ) % {"message": momo_message}

    def _ip_message(self, momo_message: str) -> str:
        ips = ", ".join(getattr(django_settings, "EGRESS_IPS", []) or [])
        return gettext(
            "momo refused this server's IP address (momo said: %(message)s). Give momo the server IP "
            "addresses shown on the settings page (%(ips)s) for its allowlist, then Test Connection again."
        ) % {"message": momo_message, "ips": ips or gettext("none configured")}

    # --- connection --------------------------------------------------------------------------------
    def test_connection(self) -> ConnectionInfo:
        """``GoodsServlet.do`` ``queryGoodsList`` over today (Taipei): read-only, tiny, fully
        specified, and it goes through the same login and allowlist checks as the order and stock
        calls. (The stock query would need a real goods code, or an empty list momo may refuse.)"""
        today = datetime.now(TAIPEI).strftime("%Y/%m/%d")
        body = {
            "doAction": "queryGoodsList",
            "sendInfo": {
                "entpGoodsNoQ": "",
                "doFlag": "",
                "goodsName": "",
                "frDate": today,
                "toDate": today,
                "goodsCode": "",
            },
        }

        def parse(doc: dict[str, Any]) -> ConnectionInfo:
            rows = decode_data_list(doc["dataList"], self.ctx.credentials["entp_pwd"])
            name = str(doc.get("entpName") or doc.get("ENTP_NAME") or "")  # not in the spec; used if sent
            return ConnectionInfo(
                shop_id=self.ctx.credentials["entp_code"],
                shop_name=name,
                extra={"products_listed_today": len(rows)},
            )

        return self.post("GoodsServlet.do", body, operation="queryGoodsList", parse=parse)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        return None


def _refusal_message(doc: Any) -> str:
    """The refusal text of a momo document: ``ERROR`` (a string) or ``basicCheckMsgList``."""
    if not isinstance(doc, dict):
        return ""
    parts: list[str] = []
    error = doc.get("ERROR")
    if isinstance(error, str) and error.strip():
        parts.append(error.strip())
    checks = doc.get("basicCheckMsgList")
    if isinstance(checks, list):
        parts += [str(m).strip() for m in checks if str(m).strip()]
    elif isinstance(checks, str) and checks.strip():
        parts.append(checks.strip())
    return "; ".join(parts)
