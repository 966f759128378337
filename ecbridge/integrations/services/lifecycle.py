"""Creating, editing, authorizing, revoking and deleting EC accounts."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ecbridge.integrations.models import ConnectionStatus, ECAccount, ShippingCodeMapping
from ecbridge.integrations.scheduling import next_fetch_time, normalise_slots
from ecbridge.integrations.services import status, stores
from ecbridge.integrations.services.connection import call, check_proof, store_tokens, test_account
from ecbridge.platforms.errors import AuthError, PlatformCallError
from ecbridge.platforms.registry import client_for

log = logging.getLogger(__name__)
STATE_SALT = "ecbridge.oauth-state"
STATE_MAX_AGE = 30 * 60


class LifecycleError(Exception):
    """A request that cannot be carried out as asked (shown to the user as it is)."""


@dataclass
class SaveResult:
    account: ECAccount
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def merge_credentials(account: ECAccount | None, submitted: dict[str, str]) -> tuple[dict[str, str], bool]:
    """Typed values over stored ones. A blank or masked secret keeps the stored value. Returns
    (merged credentials, whether anything changed)."""
    stored = account.credentials if account else {}
    merged = dict(stored)
    for name, value in submitted.items():
        value = (value or "").strip()
        if value in ("", "********"):
            continue
        merged[name] = value
    return merged, merged != stored


def push_percentage_advice(merchant_id: int) -> tuple[list[str], list[str]]:
    """(warnings, notices) about the merchant's push-enabled accounts' percentages."""
    total = sum(
        ECAccount.objects.filter(merchant_id=merchant_id, inbound_push_enabled=True).values_list(
            "push_percentage", flat=True
        )
    )
    if total > 100:
        return [
            _(
                "The push percentages of this merchant's accounts add up to %(total)s%%, more than 100%%: "
                "platforms may sell more than the warehouse received (overselling risk). Each put-away still "
                "never pushes more than was received in total."
            )
            % {"total": total}
        ], []
    if total == 100:
        return [], [
            _("The push percentages add up to exactly 100%: no buffer is left for returns and shrinkage.")
        ]
    return [], []


def _apply_settings(account: ECAccount, data: dict) -> None:
    if "fetch_orders_enabled" in data:
        account.fetch_orders_enabled = bool(data["fetch_orders_enabled"])
    if "fetch_times" in data:
        try:
            account.fetch_times = normalise_slots(data["fetch_times"])
        except ValueError:
            raise LifecycleError(_('Fetch times are local times written "HH:MM", e.g. 09:30.')) from None
    if account.fetch_orders_enabled and not account.fetch_times:
        raise LifecycleError(_("Add at least one fetch time when Fetch Orders is on."))
    if len(account.fetch_times) > settings.FETCH_SLOTS_MAX:
        raise LifecycleError(_("At most %(n)s fetch times a day.") % {"n": settings.FETCH_SLOTS_MAX})
    if "inbound_push_enabled" in data:
        account.inbound_push_enabled = bool(data["inbound_push_enabled"])
    if "push_percentage" in data and data["push_percentage"] is not None:
        pct = int(data["push_percentage"])
        if not 0 <= pct <= 100:
            raise LifecycleError(_("The push percentage is a whole number from 0 to 100."))
        account.push_percentage = pct
    account.next_fetch_at = next_fetch_time(account.fetch_times) if account.fetch_orders_enabled else None


def _apply_mappings(account: ECAccount, mappings: list[dict]) -> None:
    spec = account.spec
    codes = [m["platform_code"].strip() for m in mappings]
    if len(codes) != len(set(codes)):
        raise LifecycleError(_("Each platform shipping code can be mapped only once."))
    if spec.fixed_shipping_codes:
        allowed = {c.code for c in spec.fixed_shipping_codes}
        unknown = [c for c in codes if c not in allowed]
        if unknown:
            raise LifecycleError(
                _("%(platform)s has fixed shipping codes; unknown: %(codes)s")
                % {"platform": spec.name, "codes": ", ".join(unknown)}
            )
    ShippingCodeMapping.objects.filter(ec_account=account).exclude(platform_code__in=codes).delete()
    for m in mappings:
        ShippingCodeMapping.objects.update_or_create(
            ec_account=account,
            platform_code=m["platform_code"].strip(),
            defaults={"shipping_type": m["shipping_type"]},
        )


def save_account(
    account: ECAccount,
    *,
    credentials: dict[str, str] | None = None,
    proof: str = "",
    settings_data: dict | None = None,
    mappings: list[dict] | None = None,
) -> SaveResult:
    """Create or update. New or changed credentials reset the status to Not Verified unless a
    fresh successful test of exactly these values (``proof``) vouches for them. Right-half
    settings and mappings are applied only while the account is (or becomes) Connected."""
    spec = account.spec
    reused = False
    if account.pk is None and spec.is_oauth:
        twin = pending_twin(account)
        if twin is not None:  # a consent page abandoned earlier: continue that account
            twin.display_name, twin.sales_channel = account.display_name, account.sales_channel
            account, reused = twin, True
    creating = account.pk is None
    merged, changed = merge_credentials(None if creating else account, credentials or {})
    errors = [
        f"{f.label}: {err}" for f in spec.credential_fields if (err := f.validate(merged.get(f.name, "")))
    ]
    if errors:
        raise LifecycleError("; ".join(str(e) for e in errors))
    if account.sales_channel.merchant_id != account.merchant_id:
        raise LifecycleError(_("The sales channel belongs to another merchant."))
    proven = (
        check_proof(proof, account.platform, account.merchant_id, merged) if (changed or creating) else None
    )
    identity = spec.store_identity_field
    store_changed = bool(
        identity
        and not creating
        and spec.store_key(merged.get(identity)) != spec.store_key(account.credentials.get(identity))
    )
    if proven and proven.get("s"):
        try:
            stores.check_free(account.platform, account.merchant_id, proven["s"], account_pk=account.pk)
        except stores.StoreAlreadyBound as exc:
            raise LifecycleError(str(exc)) from None

    status_before = account.status
    with transaction.atomic():
        if changed or creating:
            account.set_credentials(merged)
        if store_changed:
            # a different store: the old grant and binding mean nothing there
            account.external_shop_id = ""
            if spec.is_oauth:
                account.set_tokens({})
        if proven and not spec.is_oauth:
            account.status = ConnectionStatus.CONNECTED
            account.status_reason = ""
            account.external_shop_id = spec.store_key(proven.get("s", "")) or account.external_shop_id
            account.external_shop_name = proven.get("n", "") or account.external_shop_name
        elif changed or creating:
            account.status = ConnectionStatus.NOT_VERIFIED
            account.status_reason = (
                _("Credentials changed: test the connection again.") if not creating else ""
            )
        if account.status == ConnectionStatus.CONNECTED:
            if settings_data is not None:
                _apply_settings(account, settings_data)
        if account.status != status_before:
            account.status_changed_at = timezone.now()
        account.full_clean(exclude=["credentials_encrypted", "tokens_encrypted"], validate_constraints=False)
        try:
            with transaction.atomic():
                account.save()
        except IntegrityError:  # another account bound the store in the meantime
            raise LifecycleError(stores.refusal(account.platform, account.merchant_id, None)) from None
        if account.status == ConnectionStatus.CONNECTED and mappings is not None:
            _apply_mappings(account, mappings)
    warnings, notices = (
        push_percentage_advice(account.merchant_id) if account.inbound_push_enabled else ([], [])
    )
    if creating:
        warnings += same_name_warning(account)
    if reused:
        notices.append(
            _("Continuing the authorization of the account you started earlier (not verified yet).")
        )
    return SaveResult(account, warnings, notices)


def pending_twin(account: ECAccount) -> ECAccount | None:
    """An account of the same merchant, platform and display name whose authorization was
    started but never came back (Not Verified, no grant, no store): retrying Authorize & Connect
    continues it instead of leaving a stray duplicate."""
    return (
        ECAccount.objects.filter(
            merchant_id=account.merchant_id,
            platform=account.platform,
            display_name__iexact=account.display_name.strip(),
            status=ConnectionStatus.NOT_VERIFIED,
            tokens_encrypted="",
            external_shop_id="",
        )
        .order_by("pk")
        .first()
    )


def same_name_warning(account: ECAccount) -> list[str]:
    twins = ECAccount.objects.filter(
        merchant_id=account.merchant_id, platform=account.platform, display_name__iexact=account.display_name
    ).exclude(pk=account.pk)
    if not twins.exists():
        return []
    return [
        _(
            "Another %(platform)s account of this merchant is also called “%(name)s”: give each account "
            "its own name so orders and stock are easy to tell apart."
        )
        % {"platform": account.spec.name, "name": account.display_name}
    ]


# --- OAuth ---------------------------------------------------------------------------------------
def callback_url(platform: str) -> str:
    return f"{settings.PUBLIC_URL}/ec-accounts/oauth/{platform}/callback/"


def authorize_url(account: ECAccount, user) -> str:
    if not account.spec.is_oauth:
        raise LifecycleError(_("This platform connects with credentials, not authorization."))
    nonce = secrets.token_urlsafe(24)
    ECAccount.objects.filter(pk=account.pk).update(oauth_state_nonce=nonce)
    account.oauth_state_nonce = nonce
    state = signing.dumps({"a": account.pk, "u": user.pk, "n": nonce}, salt=STATE_SALT)
    client = client_for(account.context(), interactive=True)
    try:
        return client.authorize_url(state=state, redirect_uri=callback_url(account.platform))
    except PlatformCallError as exc:  # e.g. our app credentials are not configured
        raise LifecycleError(_("Cannot start the authorization: %(error)s") % {"error": exc}) from None


@dataclass(frozen=True)
class State:
    account_id: int
    nonce: str


def read_state(state: str, user) -> State:
    """What the state was issued for, or LifecycleError when forged/expired/not yours."""
    try:
        data = signing.loads(state or "", salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.SignatureExpired:
        raise LifecycleError(_("The authorization took too long; please start again.")) from None
    except signing.BadSignature:
        raise LifecycleError(_("Invalid authorization state.")) from None
    if data.get("u") != user.pk:
        raise LifecycleError(_("This authorization was started by another user."))
    if not data.get("n"):
        raise LifecycleError(_("Invalid authorization state."))
    return State(int(data["a"]), str(data["n"]))


def consume_state(account: ECAccount, state: State) -> bool:
    """Use the state once: True for the first callback carrying it; False for a replay (a reloaded
    callback, a back button) or a state that a newer Authorize & Connect replaced."""
    used = (
        ECAccount.objects.filter(pk=account.pk, oauth_state_nonce=state.nonce)
        .exclude(oauth_state_nonce="")
        .update(oauth_state_nonce="")
    )
    account.oauth_state_nonce = ""
    return used == 1


def complete_authorization(account: ECAccount, params: dict[str, str]) -> tuple[bool, str]:
    """Exchange the callback's code, store tokens, test, and register webhooks."""
    client = client_for(account.context(), interactive=True)
    try:
        client.verify_callback(params)
        tokens = client.exchange_code(params, redirect_uri=callback_url(account.platform))
    except PlatformCallError as exc:
        message = _("Authorization failed: %(error)s") % {"error": exc}
        status.mark_disconnected(account, message, tested=True)
        return False, message
    try:
        stores.check_same_store(account, tokens.shop_id)
        store_tokens(account, tokens)
    except (stores.StoreAlreadyBound, stores.StoreMismatch) as exc:
        # The grant is dropped; the account that holds the store is not touched, and this one
        # keeps whatever it had (a connected account stays connected to its own store).
        if not account.is_connected:
            ECAccount.objects.filter(pk=account.pk).update(status_reason=str(exc)[:2000])
        return False, str(exc)
    result = test_account(account)
    if not result.ok:
        return False, result.message
    register_webhooks(account)
    return True, _("Authorized Successfully")


def register_webhooks(account: ECAccount) -> None:
    """Subscribe to the platform's real-time notifications where it has per-shop subscriptions.
    Failure here never blocks the connection: the scheduled fetch reconciles everything."""
    url = f"{settings.PUBLIC_URL}/webhooks/{account.platform}/"
    try:
        regs = call(account, lambda client: client.register_webhooks(url))
    except PlatformCallError as exc:
        log.warning("webhook registration failed for account %s: %s", account.pk, exc)
        return
    if regs:
        account.webhooks = [{"topic": r.topic, "remote_id": r.remote_id, "address": r.address} for r in regs]
        ECAccount.objects.filter(pk=account.pk).update(webhooks=account.webhooks)


def revoke(account: ECAccount) -> str | None:
    """Revoke the authorization. Returns the platform's revocation page URL to redirect to, or
    None when it was revoked through the API. Either way the account is Disconnected now and
    stops all scheduled work."""
    if not account.spec.is_oauth:
        raise LifecycleError(_("Only authorization-based platforms can be revoked."))
    url = None
    # An account that holds no grant for a store has nothing to revoke on the platform: sending
    # the user to the platform would cancel the authorization of whichever account holds it.
    holds_store = bool(account.tokens_encrypted and account.external_shop_id)
    client = client_for(account.context(), interactive=True) if holds_store else None
    if client is not None:
        url = client.revoke_url(redirect_uri=f"{settings.PUBLIC_URL}/ec-accounts/{account.pk}/")
    if client is not None and url is None:
        try:
            client.revoke()
        except AuthError:
            pass  # already revoked on the platform: the outcome we want
        except PlatformCallError as exc:
            raise LifecycleError(
                _("The platform did not revoke the authorization: %(error)s") % {"error": exc}
            )
    account.set_tokens({})
    account.authorization_expires_at = None
    ECAccount.objects.filter(pk=account.pk).update(
        tokens_encrypted="",
        token_expires_at=None,
        refresh_expires_at=None,
        authorization_expires_at=None,
        webhooks=[],
        oauth_state_nonce="",
    )
    status.mark_disconnected(account, _("Authorization revoked."), notify_users=False)
    return url


def delete_account(account: ECAccount) -> str:
    """Try to clear the subscriptions we registered on the platform (each call is in the API log),
    then delete. Imported orders are kept. Returns a message about the cleanup for the user."""
    message = ""
    if account.webhooks and account.tokens_encrypted:
        try:
            client_for(account.context(), interactive=True).clear_webhooks(account.webhooks)
            message = _("Platform notifications were removed.")
        except PlatformCallError as exc:
            message = _(
                "Could not remove the platform notifications (%(error)s); the account was deleted anyway."
            ) % {"error": exc}
    log.info("EC account %s (%s) deleted; %s", account.pk, account.platform, message or "nothing to clear")
    account.delete()
    return message
