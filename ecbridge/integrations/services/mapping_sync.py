"""Sync Product Mappings (G8, G9): pull every platform item and variant and link it to the WMS
product the account's sales channel rule names (SKU or barcode). Match-first: nothing is ever
created in the WMS; ambiguous matches are reported, not guessed.

What a run does to the account's mappings, in one transaction at the end (a failed pull changes
nothing):
- a platform variant that matches a WMS product gets (or keeps) a mapping, refreshed with the
  platform's SKU, name, barcode and stock references;
- mappings a person confirmed (source MANUAL) are never changed or removed by a sync;
- sync-made mappings of variants the platform no longer lists, or that no longer match, are
  removed (they could not receive stock);
- the SKU-only placeholders that order matching made for lines without a platform item id
  ("sku:<SKU>") give way to the real variant once the sync finds it."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ecbridge.channels.models import SalesChannel
from ecbridge.core.leases import lease
from ecbridge.core.messages import Msg
from ecbridge.integrations.models import ECAccount, ProductMapping, ProductSyncRun
from ecbridge.integrations.services import connection, listings
from ecbridge.inventory.models import Product
from ecbridge.notifications.services import notify
from ecbridge.platforms.base import Capability, PlatformProduct
from ecbridge.platforms.errors import PlatformCallError

log = logging.getLogger(__name__)

UNMATCHED_KEEP = 500  # unmatched platform products listed on a run (the counts are complete)
SKU_PLACEHOLDER = "sku:"  # orders.services.mapping's variant id for lines without an item id


class SyncNotAvailable(Exception):
    """The account cannot sync mappings now (spec/02: connected + inbound push on + supported)."""


def blocked_reason(account: ECAccount) -> str | None:
    if not (account.spec.implemented and account.spec.has(Capability.SYNC_PRODUCTS)):
        return _("%(platform)s does not support syncing product mappings.") % {
            "platform": account.platform_name
        }
    if not account.is_connected:
        return _("The account is not connected.")
    if not account.inbound_push_enabled:
        return _("Inbound Push is off for this account.")
    return None


def request_sync(account: ECAccount, user=None) -> tuple[ProductSyncRun, bool]:
    """Queue a sync; (run, created). A sync already queued or running is returned instead."""
    reason = blocked_reason(account)
    if reason:
        raise SyncNotAvailable(reason)
    with transaction.atomic():
        ECAccount.objects.select_for_update().filter(pk=account.pk).first()  # one request at a time
        open_run = account.product_sync_runs.filter(
            status__in=[ProductSyncRun.Status.QUEUED, ProductSyncRun.Status.RUNNING]
        ).first()
        if open_run is not None:
            return open_run, False
        run = ProductSyncRun.objects.create(
            ec_account=account, requested_by=user if getattr(user, "is_authenticated", False) else None
        )
        run_id = run.pk
        transaction.on_commit(lambda: _enqueue(run_id))
    return run, True


def _enqueue(run_id: int) -> None:
    try:
        from ecbridge.integrations.tasks import sync_product_mappings

        sync_product_mappings(run_id)
    except Exception:  # noqa: BLE001 - the run stays QUEUED and visible; a new request re-queues it
        log.exception("could not enqueue product mapping sync %s", run_id)


def run_sync(run_id: int) -> ProductSyncRun | None:
    run = ProductSyncRun.objects.select_related("ec_account__sales_channel").filter(pk=run_id).first()
    if run is None or run.status not in (ProductSyncRun.Status.QUEUED, ProductSyncRun.Status.RUNNING):
        return run
    account = run.ec_account
    with lease(f"product-sync:{account.pk}", ttl=1800) as held:
        if not held:
            return run  # another job syncs this account; this run stays queued for it
        ProductSyncRun.objects.filter(pk=run.pk).update(
            status=ProductSyncRun.Status.RUNNING, started_at=timezone.now()
        )
        try:
            variants = _pull(account, run.pk)
        except PlatformCallError as exc:
            return _failed(
                run,
                Msg(gettext_noop("The platform's product list could not be read: %(error)s"), error=str(exc)),
            )
        except NotImplementedError:
            return _failed(
                run,
                Msg(
                    gettext_noop("%(platform)s does not support syncing product mappings."),
                    platform=str(account.platform_name),
                ),
            )
        except Exception as exc:  # a bug or an unexpected answer: the run says so, mappings untouched
            log.exception("product mapping sync %s crashed", run_id)
            return _failed(
                run,
                Msg(gettext_noop("The sync stopped unexpectedly: %(error)s"), error=exc.__class__.__name__),
            )
        result = _apply(account, variants)
        now = timezone.now()
        ProductSyncRun.objects.filter(pk=run.pk).update(
            status=ProductSyncRun.Status.SUCCEEDED,
            finished_at=now,
            variants_seen=len(variants),
            mapped=result["mapped"],
            new_mappings=result["new"],
            unmatched=result["unmatched"],
            ambiguous=result["ambiguous"],
            unmatched_items=result["unmatched_items"],
        )
        ECAccount.objects.filter(pk=account.pk).update(product_mappings_synced_at=now)
        run.refresh_from_db()
        notify(
            merchant_id=account.merchant_id,
            ec_account=account,
            kind="product_mapping_sync",
            level="success" if not run.unmatched and not run.ambiguous else "warning",
            title=Msg(gettext_noop("Product mappings synced for %(account)s"), account=account.display_name),
            body=Msg(
                gettext_noop(
                    "%(mapped)d products mapped (%(new)d new), "
                    "%(unmatched)d platform SKUs without a WMS product."
                ),
                mapped=run.mapped,
                new=run.new_mappings,
                unmatched=run.unmatched + run.ambiguous,
            ),
            link=_account_url(account),
        )
        return run


def _pull(account: ECAccount, run_id: int | None = None) -> list[PlatformProduct]:
    """Every variant the platform lists (full pagination), de-duplicated by (item, variant). The
    run's ``variants_seen`` grows page by page, so the page watching it shows the progress."""

    def pull(client):
        seen: dict[tuple[str, str], PlatformProduct] = {}
        for page in client.iter_products():
            for variant in page:
                seen[(str(variant.item_id), str(variant.variant_id or ""))] = variant
            if run_id is not None:
                ProductSyncRun.objects.filter(pk=run_id).update(variants_seen=len(seen))
        return list(seen.values())

    return connection.call(account, pull)


def _index(products, field: str) -> dict[str, list[Product]]:
    index: dict[str, list[Product]] = defaultdict(list)
    for product in products:
        value = (getattr(product, field) or "").strip()
        if value:
            index[value.casefold()].append(product)
    return index


def _apply(account: ECAccount, variants: list[PlatformProduct]) -> dict:
    by_barcode = account.sales_channel.match_rule == SalesChannel.MatchRule.BARCODE
    products = list(Product.objects.filter(merchant_id=account.merchant_id).only("pk", "sku", "barcode"))
    index = _index(products, "barcode" if by_barcode else "sku")
    existing = {
        (m.platform_item_id, m.platform_variant_id): m
        for m in account.product_mappings.select_related("product")
    }
    now = timezone.now()

    # SKU-only mappings made from order lines without a platform item id: the real variant with
    # that SKU inherits their product (and source: a person's decision stays a person's).
    placeholders = {
        m.platform_sku: m for k, m in existing.items() if k[0] == "" and k[1].startswith(SKU_PLACEHOLDER)
    }
    placeholders_done: set[int] = set()

    to_create, to_update, keep_keys = [], [], set()
    unmatched_items, unmatched, ambiguous = [], 0, 0
    for variant in variants:
        key = (str(variant.item_id), str(variant.variant_id or ""))
        value = ((variant.barcode if by_barcode else variant.sku) or "").strip()
        candidates = index.get(value.casefold(), []) if value else []
        current = existing.get(key)
        if current is not None and current.source == ProductMapping.Source.MANUAL:
            keep_keys.add(key)  # a person's decision stands
            continue
        placeholder = placeholders.get((variant.sku or "").strip()) if key[0] else None
        source = ProductMapping.Source.SYNC
        if placeholder is not None:
            candidates, source = [placeholder.product], placeholder.source
            placeholders_done.add(placeholder.pk)
        if len(candidates) != 1:
            if len(candidates) > 1:
                ambiguous += 1
                reason = (
                    _("Several WMS products have this barcode.")
                    if by_barcode
                    else _("Several WMS products have this SKU.")
                )
            else:
                unmatched += 1
                if not value:
                    reason = _("No barcode on the platform.") if by_barcode else _("No SKU on the platform.")
                else:
                    reason = (
                        _("No WMS product with this barcode.")
                        if by_barcode
                        else _("No WMS product with this SKU.")
                    )
            if len(unmatched_items) < UNMATCHED_KEEP:
                unmatched_items.append(
                    {
                        "sku": variant.sku,
                        "barcode": variant.barcode,
                        "name": variant.name,
                        "item_id": key[0],
                        "variant_id": key[1],
                        "reason": str(reason),
                    }
                )
            continue
        product = candidates[0]
        fields = {
            "product_id": product.pk,
            "platform_sku": (variant.sku or "")[:120],
            "platform_barcode": (variant.barcode or "")[:120],
            "platform_name": (variant.name or "")[:255],
            "stock_ref": dict(variant.stock_ref or {}),
            "synced_at": now,
            "updated_at": now,
        }
        keep_keys.add(key)
        if current is None:
            to_create.append(
                ProductMapping(
                    ec_account=account,
                    platform_item_id=key[0],
                    platform_variant_id=key[1],
                    source=source,
                    **fields,
                )
            )
        else:
            if current.product_id != product.pk:
                current.is_stock_primary = False  # the choice was made for the other product
            for name, value_ in fields.items():
                setattr(current, name, value_)
            to_update.append(current)

    placeholder_pks = {m.pk for m in placeholders.values()}
    stale = {
        m.pk
        for k, m in existing.items()
        if k not in keep_keys and m.source == ProductMapping.Source.SYNC and m.pk not in placeholder_pks
    }
    with transaction.atomic():
        ProductMapping.objects.filter(pk__in=stale | placeholders_done).delete()
        ProductMapping.objects.bulk_update(
            to_update,
            [
                "product_id",
                "is_stock_primary",
                "platform_sku",
                "platform_barcode",
                "platform_name",
                "stock_ref",
                "synced_at",
                "updated_at",
            ],
            batch_size=500,
        )
        ProductMapping.objects.bulk_create(to_create, batch_size=500)
    return {
        "mapped": listings.mapped_counts(account)[0],  # the detail page's count, after the write
        "new": len(to_create),
        "unmatched": unmatched,
        "ambiguous": ambiguous,
        "unmatched_items": unmatched_items,
    }


def _failed(run: ProductSyncRun, message: Msg) -> ProductSyncRun:
    ProductSyncRun.objects.filter(pk=run.pk).update(
        status=ProductSyncRun.Status.FAILED, finished_at=timezone.now(), message=str(message)
    )
    run.refresh_from_db()
    account = run.ec_account
    notify(
        merchant_id=account.merchant_id,
        ec_account=account,
        kind="product_mapping_sync",
        level="error",
        title=Msg(gettext_noop("Product mapping sync failed for %(account)s"), account=account.display_name),
        body=message,
        link=_account_url(account),
    )
    return run


def _account_url(account: ECAccount) -> str:
    from django.urls import reverse

    return reverse("integrations:detail", args=[account.pk])
