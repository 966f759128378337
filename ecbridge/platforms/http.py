"""The one way platform clients talk HTTP: timeouts, retries with backoff honouring Retry-After
(tenacity), typed errors, and an API-log row for every attempt (written by a transport wrapper so
timeouts and connection errors are logged too).

Rule: never call ``send`` inside a database transaction; the API-log row must survive a rollback,
and a network wait must not hold a lock."""

from __future__ import annotations

import contextlib
import functools
import random
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import certifi
import httpx
import tenacity
from django.conf import settings

from ecbridge.platforms.base import AccountContext
from ecbridge.platforms.errors import (
    RETRYABLE,
    PlatformCallError,
    RateLimited,
    TransientError,
)

T = TypeVar("T")

_transport_override: httpx.BaseTransport | None = None
sleep: Callable[[float], None] = time.sleep  # tests replace it so backoff costs no time


@contextlib.contextmanager
def use_transport(transport: httpx.BaseTransport) -> Iterator[None]:
    """Route every platform call through ``transport`` (the in-process sandbox in tests)."""
    global _transport_override
    previous, _transport_override = _transport_override, transport
    try:
        yield
    finally:
        _transport_override = previous


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _wait(retry_state: tenacity.RetryCallState) -> float:
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    cap = settings.HTTP_MAX_BACKOFF_SECONDS
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        return min(exc.retry_after, cap)
    # exponential backoff with full jitter: 0.5, 1, 2, 4 ... seconds
    return min(cap, random.uniform(0, 0.5 * 2 ** (retry_state.attempt_number - 1)) + 0.25)


def _worth_retrying(exc: BaseException) -> bool:
    """Retryable errors, except throttling that asks us to wait longer than we ever back off
    (e.g. a daily quota): that call is given up now and the job runs again later."""
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        return exc.retry_after <= settings.HTTP_MAX_BACKOFF_SECONDS
    return isinstance(exc, RETRYABLE)


class PlatformHttp:
    """HTTP for one account (``ctx``). ``interactive`` calls (a user is waiting) retry less."""

    def __init__(
        self,
        ctx: AccountContext | None,
        *,
        interactive: bool = False,
        timeout: float | None = None,
        recorder: Callable[..., Any] | None = None,
    ):
        self.ctx = ctx
        self.max_attempts = (
            settings.HTTP_INTERACTIVE_MAX_ATTEMPTS if interactive else settings.HTTP_MAX_ATTEMPTS
        )
        self.timeout = timeout or settings.HTTP_TIMEOUT_SECONDS
        self._recorder = recorder

    def _record(self, **kw) -> None:
        if self._recorder is not None:
            self._recorder(**kw)
            return
        from ecbridge.apilog.services import record_call

        record_call(ctx=self.ctx, direction="outbound", **kw)

    def _client(self) -> httpx.Client:
        return httpx.Client(
            transport=_transport_override,
            verify=_ssl_context(),
            timeout=httpx.Timeout(self.timeout, connect=min(10.0, self.timeout)),
            follow_redirects=False,
            headers={"User-Agent": "ecbridge/0.1"},
        )

    def send(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        parse: Callable[[httpx.Response], T],
        retry: bool = True,
        **request_kwargs: Any,
    ) -> T:
        """Send, parse and log; retry retryable failures. ``parse`` turns a response into a result
        or raises a PlatformCallError; anything else it raises is treated as a malformed body."""
        attempts = self.max_attempts if retry else 1
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(attempts),
            wait=_wait,
            retry=tenacity.retry_if_exception(_worth_retrying),
            sleep=lambda seconds: sleep(seconds),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self._attempt(
                    method, url, operation, parse, attempt.retry_state.attempt_number, request_kwargs
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, method, url, operation, parse, number, request_kwargs):
        started = time.monotonic()
        request = None
        response = None
        error: PlatformCallError | None = None
        result = None
        try:
            with self._client() as client:
                request = client.build_request(method, url, **request_kwargs)
                response = client.send(request)
                response.read()
        except httpx.TimeoutException as exc:
            error = TransientError(
                f"Timed out after {self.timeout:.0f}s ({exc.__class__.__name__})", code="timeout"
            )
        except httpx.TransportError as exc:
            error = TransientError(f"Connection failed: {exc.__class__.__name__}", code="connection_error")
        if error is None:
            try:
                result = parse(response)
            except PlatformCallError as exc:
                error = exc
            except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
                error = TransientError(
                    f"Malformed response: {exc.__class__.__name__}: {exc}", code="malformed"
                )
        self._record(
            operation=operation,
            method=method,
            url=str(request.url) if request is not None else url,
            status_code=response.status_code if response is not None else None,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=str(error) if error else "",
            attempt=number,
            request_headers=request.headers if request is not None else {},
            request_body=request.content if request is not None else b"",
            response_body=response.content if response is not None else b"",
        )
        if error is not None:
            raise error
        return result


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context per process: building it loads the CA bundle (~18 ms), which a new
    client per call would otherwise pay on every platform call."""
    return ssl.create_default_context(cafile=certifi.where())
