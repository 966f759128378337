"""One platform store, one EC account. Every path that learns which store an account reaches (the
OAuth code exchange, a connection test, Save after a test, the API) binds it here, and the
database's unique constraint on (platform, store identity) is the final word under concurrency.

Refusals never name the other merchant or its account: a store held by another merchant is only
"connected to another EC account". Within one merchant the account is named, which helps."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ecbridge.integrations.models import ECAccount


class StoreAlreadyBound(Exception):
    """The store belongs to another EC account; ``str()`` is for the person."""


class StoreMismatch(Exception):
    """An authorization reached a different store than the one this account holds."""


def holder(platform: str, store_key: str, *, exclude_pk: int | None = None) -> ECAccount | None:
    if not store_key:
        return None
    qs = ECAccount.objects.filter(platform=platform, external_shop_id__iexact=store_key)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.first()


def refusal(platform: str, merchant_id: int | None, other: ECAccount | None) -> str:
    from ecbridge.platforms.registry import get_spec

    spec = get_spec(platform)
    if other is not None and merchant_id is not None and other.merchant_id == merchant_id:
        return _(
            "This %(platform)s store is already connected as the EC account “%(name)s”. A store can "
            "belong to only one EC account: use that account, or delete it first."
        ) % {"platform": spec.name, "name": other.display_name}
    return _(
        "This %(platform)s store is already connected to another EC account. A store can belong to "
        "only one EC account; ask the warehouse to release it before connecting it here."
    ) % {"platform": spec.name}


def check_free(platform: str, merchant_id: int | None, raw_store_id, *, account_pk: int | None = None) -> str:
    """The canonical store key when no other account holds it; raises StoreAlreadyBound otherwise."""
    from ecbridge.platforms.registry import get_spec

    key = get_spec(platform).store_key(raw_store_id)
    other = holder(platform, key, exclude_pk=account_pk)
    if other is not None:
        raise StoreAlreadyBound(refusal(platform, merchant_id, other))
    return key


def check_same_store(account: ECAccount, raw_store_id) -> None:
    """An authorization must reach the store the account already holds (a consent page that lists
    several shops makes picking the wrong one easy, and would mix two shops' orders)."""
    key = account.spec.store_key(raw_store_id)
    if account.external_shop_id and key and key != account.spec.store_key(account.external_shop_id):
        raise StoreMismatch(
            _(
                "This account is connected to %(identity)s %(held)s, but the authorization was for "
                "%(got)s. Authorize %(held)s again, or create a new EC account for the other store."
            )
            % {"identity": account.spec.store_identity, "held": account.external_shop_id, "got": key}
        )


def bind(account: ECAccount, raw_store_id, **other_fields) -> None:
    """Record that ``account`` reaches this store (with any other fields to save in the same
    UPDATE). Raises StoreAlreadyBound when another account holds it, checked first and then
    enforced by the database, so two binders racing for one store cannot both win."""
    key = check_free(account.platform, account.merchant_id, raw_store_id, account_pk=account.pk)
    fields = dict(other_fields)
    if key:
        fields["external_shop_id"] = key
    if not fields:
        return
    try:
        with transaction.atomic():
            ECAccount.objects.filter(pk=account.pk).update(**fields)
    except IntegrityError:
        raise StoreAlreadyBound(
            refusal(
                account.platform, account.merchant_id, holder(account.platform, key, exclude_pk=account.pk)
            )
        ) from None
    for name, value in fields.items():
        setattr(account, name, value)
