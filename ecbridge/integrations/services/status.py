"""Connection status transitions. Every change goes through here so the rules stay in one place:
a successful test → Connected; a failed test or a rejected credential → Disconnected (and a
notification); new or changed credentials → Not Verified."""

from django.utils import timezone
from django.utils.translation import gettext_noop

from ecbridge.core.messages import Msg
from ecbridge.integrations.models import ConnectionStatus, ECAccount
from ecbridge.integrations.services import stores
from ecbridge.notifications.services import notify


def _set(account: ECAccount, status: str, reason: str = "", *, store_id: str = "", **extra) -> None:
    now = timezone.now()
    fields = {"status": status, "status_reason": reason[:2000], "updated_at": now, **extra}
    if account.status != status:
        fields["status_changed_at"] = now
    stores.bind(account, store_id, **fields)


def mark_connected(
    account: ECAccount, *, shop_id: str = "", shop_name: str = "", authorization_expires_at=None
):
    """Connected, reaching the store ``shop_id`` (raises stores.StoreAlreadyBound, changing
    nothing, when another account holds that store)."""
    was = account.status
    extra = {"last_tested_at": timezone.now()}
    if shop_name:
        extra["external_shop_name"] = shop_name
    if authorization_expires_at:
        extra["authorization_expires_at"] = authorization_expires_at
    _set(account, ConnectionStatus.CONNECTED, "", store_id=shop_id, **extra)
    if was == ConnectionStatus.DISCONNECTED:
        notify(
            merchant_id=account.merchant_id,
            ec_account=account,
            kind="reconnected",
            level="success",
            title=Msg(gettext_noop("%(name)s is connected again"), name=account.display_name),
            body=Msg(gettext_noop("Scheduled work for this account resumes.")),
            link=f"/ec-accounts/{account.pk}/",
        )


def mark_disconnected(account: ECAccount, reason: str, *, tested: bool = False, notify_users: bool = True):
    was = account.status
    extra = {"last_tested_at": timezone.now()} if tested else {}
    _set(account, ConnectionStatus.DISCONNECTED, reason, **extra)
    if notify_users and was != ConnectionStatus.DISCONNECTED:
        notify(
            merchant_id=account.merchant_id,
            ec_account=account,
            kind="disconnected",
            level="error",
            title=Msg(gettext_noop("%(name)s is disconnected"), name=account.display_name),
            body=reason,
            link=f"/ec-accounts/{account.pk}/",
        )


def mark_not_verified(account: ECAccount, reason: str = ""):
    _set(account, ConnectionStatus.NOT_VERIFIED, reason)
