"""Typed platform errors. A client never turns an error into an empty result."""


class PlatformCallError(Exception):
    """Base class. ``code``/``message`` are the platform's own, kept for the API log and the user."""

    def __init__(self, message: str = "", *, code: str = "", status: int | None = None):
        super().__init__(message or code or self.__class__.__name__)
        self.code = code
        self.message = message
        self.status = status

    def __str__(self):
        return f"{self.code}: {self.message}" if self.code and self.message else (self.message or self.code)


class AuthError(PlatformCallError):
    """Credentials or authorization rejected: the account becomes Disconnected."""


class TokenExpired(AuthError):
    """The access token expired; a refresh may recover without the user (OAuth platforms)."""


class RateLimited(PlatformCallError):
    """Throttled. ``retry_after`` seconds, when the platform said so."""

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class TransientError(PlatformCallError):
    """Worth retrying: 5xx, timeouts, connection errors, malformed bodies."""


class PlatformError(PlatformCallError):
    """Permanent: the platform refused the request for a business reason."""


RETRYABLE = (RateLimited, TransientError)
