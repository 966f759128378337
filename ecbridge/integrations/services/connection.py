"""Talking to a platform for one account: a client with fresh tokens, single-flight token refresh,
connection tests, and the rule that a rejected credential disconnects the account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext as _

from ecbridge.core.crypto import encrypt_json
from ecbridge.core.leases import lease
from ecbridge.integrations.models import ECAccount
from ecbridge.integrations.services import status, stores
from ecbridge.platforms.base import AccountContext, Client, ConnectionInfo, TokenSet
from ecbridge.platforms.errors import AuthError, PlatformCallError, TokenExpired
from ecbridge.platforms.registry import client_for, get_spec
from ecbridge.platforms.settings import platform_settings

REFRESH_MARGIN = timedelta(minutes=10)
PROOF_SALT = "ecbridge.connection-test"
PROOF_MAX_AGE = 60 * 60  # a successful test is good for saving during one hour


def store_tokens(account: ECAccount, tokens: TokenSet) -> None:
    """Keep a grant, binding the store it is for (raises stores.StoreAlreadyBound, storing
    nothing, when another account holds that store)."""
    stores.bind(
        account,
        tokens.shop_id,
        tokens_encrypted=encrypt_json(tokens.as_secret_dict()),
        token_expires_at=tokens.expires_at,
        refresh_expires_at=tokens.refresh_expires_at,
    )


def refresh_tokens(account: ECAccount, *, failed_access_token: str | None = None) -> None:
    """Single-flight refresh (G12): one refresher per account; whoever waits re-reads and uses
    the token the winner stored. A rejected refresh is re-read once before it disconnects."""
    with lease(f"token-refresh:{account.pk}", ttl=120, wait=30) as held:
        account.refresh_from_db()
        current = account.tokens.get("access_token")
        if failed_access_token is not None and current and current != failed_access_token:
            return  # someone else rotated while we waited
        if not held:
            raise AuthError(_("Another token refresh is still running; try again shortly."))
        client = client_for(account.context())
        try:
            tokens = client.refresh()
        except AuthError:
            account.refresh_from_db()
            if account.tokens.get("access_token") != current:
                return
            raise
        store_tokens(account, tokens)


def _needs_refresh(account: ECAccount) -> bool:
    return bool(
        account.spec.is_oauth
        and account.tokens_encrypted
        and account.token_expires_at
        and account.token_expires_at - timezone.now() < REFRESH_MARGIN
    )


def call(account: ECAccount, operation, *, interactive: bool = False):
    """Run ``operation(client)`` with fresh tokens. An expired token is refreshed once and the
    operation retried; credentials rejected for good mark the account Disconnected."""
    try:
        if _needs_refresh(account):
            refresh_tokens(account)
        client = client_for(account.context(), interactive=interactive)
        try:
            return operation(client)
        except TokenExpired:
            if not account.spec.is_oauth:
                raise
            refresh_tokens(account, failed_access_token=client.ctx.tokens.get("access_token"))
            account.refresh_from_db()
            return operation(client_for(account.context(), interactive=interactive))
    except AuthError as exc:
        status.mark_disconnected(
            account, _("The platform rejected the authorization: %(error)s") % {"error": exc}
        )
        raise


@dataclass
class TestResult:
    ok: bool
    message: str
    info: ConnectionInfo | None = None
    proof: str = ""


def test_account(account: ECAccount) -> TestResult:
    """Test the stored credentials/tokens: Connected on success, Disconnected on any failure."""
    if account.spec.is_oauth and not account.tokens_encrypted:
        message = _("Not authorized yet: use Authorize & Connect first.")
        status.mark_disconnected(account, message, tested=True, notify_users=False)
        return TestResult(False, message)
    try:
        info = call(account, lambda client: client.test_connection(), interactive=True)
    except PlatformCallError as exc:
        message = _("Connection failed: %(error)s") % {"error": exc}
        status.mark_disconnected(account, message, tested=True)
        return TestResult(False, message)
    try:
        stores.check_same_store(account, info.shop_id)
        status.mark_connected(
            account,
            shop_id=info.shop_id,
            shop_name=info.shop_name,
            authorization_expires_at=info.authorization_expires_at,
        )
    except (stores.StoreAlreadyBound, stores.StoreMismatch) as exc:
        status.mark_disconnected(account, str(exc), tested=True, notify_users=False)
        return TestResult(False, str(exc))
    return TestResult(True, _("Connection Successful"), info)


def credentials_fingerprint(platform: str, credentials: dict[str, str]) -> str:
    """A keyed digest of the credential values, to bind a successful test to what gets saved."""
    return signing.Signer(salt=PROOF_SALT).signature(
        platform + "\x00" + "\x00".join(f"{k}={credentials.get(k, '')}" for k in sorted(credentials))
    )


def test_credentials(
    platform: str, merchant_id: int, credentials: dict[str, str], *, account_pk: int | None = None
) -> TestResult:
    """Test typed credentials before they are saved (key/credential platforms). On success the
    result carries a signed proof that lets Save mark the account Connected without a retest.
    A store that another account holds fails the test (the platform accepted the keys, but they
    cannot be bound here)."""
    ctx = AccountContext(
        account_id=None,
        merchant_id=merchant_id,
        platform=platform,
        credentials=credentials,
        settings=platform_settings(platform),
    )
    client: Client = client_for(ctx, interactive=True)
    try:
        info = client.test_connection()
    except PlatformCallError as exc:
        return TestResult(False, _("Connection failed: %(error)s") % {"error": exc})
    try:
        stores.check_free(platform, merchant_id, info.shop_id, account_pk=account_pk)
    except stores.StoreAlreadyBound as exc:
        return TestResult(False, str(exc))
    proof = signing.dumps(
        {
            "p": platform,
            "m": merchant_id,
            "f": credentials_fingerprint(platform, credentials),
            "s": info.shop_id,
            "n": info.shop_name,
        },
        salt=PROOF_SALT,
    )
    return TestResult(True, _("Connection Successful"), info, proof)


def check_proof(proof: str, platform: str, merchant_id: int, credentials: dict[str, str]) -> dict | None:
    """The proof's payload when it vouches for exactly these credentials, else None."""
    if not proof:
        return None
    try:
        data = signing.loads(proof, salt=PROOF_SALT, max_age=PROOF_MAX_AGE)
    except signing.BadSignature:
        return None
    if (
        data.get("p") == platform
        and data.get("m") == merchant_id
        and data.get("f") == credentials_fingerprint(platform, credentials)
    ):
        return data
    return None


def proof_is_fresh(proof: str, platform: str, merchant_id: int) -> bool:
    """Whether a genuine, unexpired proof exists for this platform and merchant (only to decide
    what a re-rendered page shows; saving checks the proof against the exact credentials)."""
    try:
        data = signing.loads(proof or "", salt=PROOF_SALT, max_age=PROOF_MAX_AGE)
    except signing.BadSignature:
        return False
    return data.get("p") == platform and data.get("m") == merchant_id


def spec_or_404(code: str):
    from django.http import Http404

    try:
        spec = get_spec(code)
    except LookupError:
        raise Http404 from None
    if not spec.implemented:
        raise Http404
    return spec
