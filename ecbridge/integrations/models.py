"""EC accounts: one store account on one platform for one merchant, bound to a sales channel."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ecbridge.channels.models import SalesChannel, ShippingType
from ecbridge.core.crypto import decrypt_json, encrypt_json
from ecbridge.platforms.base import AccountContext, PlatformSpec
from ecbridge.platforms.registry import get_spec
from ecbridge.tenancy.models import Merchant, MerchantScopedQuerySet

MASK = "********"


class ConnectionStatus(models.TextChoices):
    NOT_VERIFIED = "not_verified", _("Not Verified")
    CONNECTED = "connected", _("Connected")
    DISCONNECTED = "disconnected", _("Disconnected")


class ECAccountQuerySet(MerchantScopedQuerySet):
    def push_enabled(self):
        return self.filter(inbound_push_enabled=True)


class ECAccount(models.Model):
    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="ec_accounts"
    )
    platform = models.CharField(_("e-commerce platform"), max_length=30, db_index=True)
    display_name = models.CharField(_("display name"), max_length=120)
    sales_channel = models.ForeignKey(
        SalesChannel, verbose_name=_("channel name"), on_delete=models.PROTECT, related_name="ec_accounts"
    )

    status = models.CharField(
        _("connection status"),
        max_length=20,
        choices=ConnectionStatus.choices,
        default=ConnectionStatus.NOT_VERIFIED,
        db_index=True,
    )
    status_reason = models.TextField(_("status reason"), blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    last_tested_at = models.DateTimeField(_("last tested at"), null=True, blank=True)

    # Secrets: encrypted JSON, never rendered, never returned by the API.
    credentials_encrypted = models.TextField(blank=True, editable=False)
    tokens_encrypted = models.TextField(blank=True, editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    refresh_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    authorization_expires_at = models.DateTimeField(_("authorization expires at"), null=True, blank=True)
    # Non-secret identity on the platform (Shopee shop_id, Shopify shop domain) and its name there.
    external_shop_id = models.CharField(_("platform shop ID"), max_length=120, blank=True, db_index=True)
    external_shop_name = models.CharField(_("platform shop name"), max_length=200, blank=True)
    webhooks = models.JSONField(default=list, blank=True, editable=False)
    # The nonce of the one authorization round trip this account is waiting for: the OAuth
    # ``state`` carries it and the callback clears it, so a state works once (a reloaded callback
    # is a replay, not a second code exchange).
    oauth_state_nonce = models.CharField(max_length=64, blank=True, editable=False)

    fetch_orders_enabled = models.BooleanField(_("fetch orders"), default=False)
    fetch_times = models.JSONField(_("fetch schedule times"), default=list, blank=True)
    next_fetch_at = models.DateTimeField(_("next fetch time"), null=True, blank=True)
    # Order import: the persisted cursor (end of the last fully committed window, UTC) and the
    # manual-fetch cooldown stamp (set atomically, so two clicks cannot both pass).
    orders_cursor_at = models.DateTimeField(_("orders fetched up to"), null=True, blank=True, editable=False)
    last_manual_fetch_at = models.DateTimeField(null=True, blank=True, editable=False)
    product_mappings_synced_at = models.DateTimeField(_("Last Synced"), null=True, blank=True, editable=False)
    inbound_push_enabled = models.BooleanField(_("inbound push"), default=False)
    push_percentage = models.PositiveSmallIntegerField(
        _("push percentage"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    objects = ECAccountQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(push_percentage__gte=0) & models.Q(push_percentage__lte=100),
                name="ecaccount_push_percentage_0_100",
            ),
            # A platform store belongs to at most one EC account (of any merchant).
            models.UniqueConstraint(
                "platform",
                Lower("external_shop_id"),
                condition=~models.Q(external_shop_id=""),
                name="ecaccount_one_account_per_store",
            ),
        ]
        verbose_name = _("EC account")
        verbose_name_plural = _("EC accounts")

    def __str__(self):
        return self.display_name

    # --- platform -------------------------------------------------------------------------------
    @property
    def spec(self) -> PlatformSpec:
        return get_spec(self.platform)

    @property
    def platform_name(self) -> str:
        return str(self.spec.name)

    # --- secrets --------------------------------------------------------------------------------
    @property
    def credentials(self) -> dict[str, str]:
        return decrypt_json(self.credentials_encrypted)

    def set_credentials(self, values: dict[str, str]) -> None:
        self.credentials_encrypted = encrypt_json({k: v for k, v in values.items() if v not in (None, "")})

    @property
    def tokens(self) -> dict[str, str]:
        return decrypt_json(self.tokens_encrypted)

    def set_tokens(self, values: dict[str, str]) -> None:
        self.tokens_encrypted = encrypt_json(values) if values else ""

    def masked_credentials(self) -> list[tuple[str, str]]:
        """(label, shown value) for every credential field: secrets always as ********."""
        stored = self.credentials
        rows = []
        for field in self.spec.credential_fields:
            value = stored.get(field.name, "")
            rows.append((str(field.label), MASK if (field.secret and value) else (value or "—")))
        if self.spec.is_oauth:
            rows.append((str(_("Access token")), MASK if self.tokens_encrypted else "—"))
        return rows

    def context(self) -> AccountContext:
        from ecbridge.platforms.settings import platform_settings

        return AccountContext(
            account_id=self.pk,
            merchant_id=self.merchant_id,
            platform=self.platform,
            credentials=self.credentials,
            tokens=self.tokens,
            shop_id=self.external_shop_id,
            settings=platform_settings(self.platform),
        )

    # --- status ---------------------------------------------------------------------------------
    @property
    def is_connected(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED

    @property
    def is_disconnected(self) -> bool:
        return self.status == ConnectionStatus.DISCONNECTED

    @property
    def settings_unlocked(self) -> bool:
        """Right-half settings are editable only while the connection is healthy."""
        return self.is_connected


class ShippingCodeMapping(models.Model):
    """Platform shipping code → warehouse shipping type, for one account."""

    ec_account = models.ForeignKey(ECAccount, on_delete=models.CASCADE, related_name="shipping_mappings")
    platform_code = models.CharField(_("platform shipping code"), max_length=80)
    shipping_type = models.ForeignKey(
        ShippingType, verbose_name=_("warehouse shipping type"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["platform_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["ec_account", "platform_code"], name="uniq_shipping_code_per_account"
            )
        ]
        verbose_name = _("shipping code mapping")
        verbose_name_plural = _("shipping code mappings")

    def __str__(self):
        return f"{self.platform_code} → {self.shipping_type}"


class ProductMappingQuerySet(MerchantScopedQuerySet):
    merchant_field = "ec_account__merchant"

    def pushable(self):
        """Mappings that name a platform item, so stock can be read and written for them (the
        SKU-only mappings order matching makes for lines without an item id cannot)."""
        return self.exclude(platform_item_id="")

    def in_stock_order(self):
        """When one product is listed several times on one account, the first row of each
        (account, product) in this order is its stock listing: the one a person marked, else the
        sync-made one ("sync" > "manual"), else the oldest. Only that listing carries stock."""
        return self.order_by("ec_account_id", "product_id", "-is_stock_primary", "-source", "id")


class ProductMapping(models.Model):
    """A platform item/variant ↔ a WMS product, for one account (DB-unique per platform variant).

    ``platform_variant_id`` is "" for products without variants."""

    class Source(models.TextChoices):
        SYNC = "sync", _("Product mapping sync")
        MANUAL = "manual", _("Confirmed by a person")

    ec_account = models.ForeignKey(ECAccount, on_delete=models.CASCADE, related_name="product_mappings")
    product = models.ForeignKey(
        "inventory.Product", verbose_name=_("product"), on_delete=models.CASCADE, related_name="mappings"
    )
    platform_item_id = models.CharField(_("platform item ID"), max_length=120, blank=True)
    platform_variant_id = models.CharField(_("platform variant ID"), max_length=120, blank=True)
    platform_sku = models.CharField(_("platform SKU"), max_length=120, blank=True, db_index=True)
    platform_barcode = models.CharField(_("platform barcode"), max_length=120, blank=True)
    platform_name = models.CharField(_("platform product name"), max_length=255, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.SYNC)
    # A person's choice of the listing that carries the product's stock on this account (see
    # ProductMappingQuerySet.in_stock_order for the default when nobody chose).
    is_stock_primary = models.BooleanField(_("stock listing"), default=False)
    # PlatformProduct.stock_ref: what the client needs to read/write this unit's stock.
    stock_ref = models.JSONField(default=dict, blank=True, editable=False)
    # G5/G16: what we last pushed and what the platform said afterwards.
    last_pushed_qty = models.IntegerField(_("last pushed quantity"), null=True, blank=True)
    last_platform_qty = models.IntegerField(_("platform quantity after the last push"), null=True, blank=True)
    last_pushed_at = models.DateTimeField(_("last pushed at"), null=True, blank=True)
    last_push_error = models.TextField(_("last push error"), blank=True)
    synced_at = models.DateTimeField(_("last seen by a mapping sync"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ProductMappingQuerySet.as_manager()

    class Meta:
        ordering = ["platform_sku", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ec_account", "platform_item_id", "platform_variant_id"],
                name="product_mapping_unique_variant",
            ),
            models.UniqueConstraint(
                fields=["ec_account", "product"],
                condition=models.Q(is_stock_primary=True),
                name="product_mapping_one_stock_listing",
            ),
        ]
        verbose_name = _("product mapping")
        verbose_name_plural = _("product mappings")

    def __str__(self):
        return f"{self.platform_sku or self.platform_variant_id} → {self.product}"


class FetchRunQuerySet(MerchantScopedQuerySet):
    merchant_field = "ec_account__merchant"


class FetchRun(models.Model):
    """One order fetch of one account: why it ran, what it covered, what it found or why it failed."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Manual")
        WEBHOOK = "webhook", _("Real-time notification")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    ec_account = models.ForeignKey(ECAccount, on_delete=models.CASCADE, related_name="fetch_runs")
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    orders_new = models.PositiveIntegerField(_("new orders"), default=0)
    orders_updated = models.PositiveIntegerField(_("updated orders"), default=0)
    orders_held = models.PositiveIntegerField(_("orders put on hold"), default=0)
    message = models.TextField(_("message"), blank=True)

    objects = FetchRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order fetch")
        verbose_name_plural = _("order fetches")

    def __str__(self):
        return f"{self.ec_account} {self.trigger} {self.status}"

    @property
    def summary(self) -> str:
        """What a person reads about this run, in their language: the counts of a successful run,
        otherwise the reason it was skipped or failed (recorded when it happened)."""
        if self.status != self.Status.SUCCEEDED:
            return self.message
        return _("%(new)d new, %(updated)d updated, %(held)d put on hold.") % {
            "new": self.orders_new,
            "updated": self.orders_updated,
            "held": self.orders_held,
        }


class WebhookEvent(models.Model):
    """The webhook inbox (G3): verified, stored, deduplicated by the platform's delivery id,
    acknowledged at once and processed by a job."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    platform = models.CharField(max_length=30)
    delivery_id = models.CharField(max_length=200)
    topic = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=20, blank=True)
    shop_id = models.CharField(max_length=120, blank=True, db_index=True)
    ec_account = models.ForeignKey(
        ECAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    order_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "delivery_id"], name="webhook_event_unique_delivery")
        ]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self):
        return f"{self.platform} {self.topic} {self.delivery_id}"


class ShipmentReportQuerySet(MerchantScopedQuerySet):
    merchant_field = "order__merchant"


class ShipmentReport(models.Model):
    """Outbox row: "tell the platform this package shipped". Written in the same transaction as
    the shipment; drained by a job with retries; at most one per (order, package) (G15)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to report")
        AWAITING_TRACKING = "awaiting_tracking", _("Waiting for the platform's tracking number")
        DONE = "done", _("Reported")
        FAILED = "failed", _("Failed")

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="shipment_reports")
    ec_account = models.ForeignKey(ECAccount, on_delete=models.CASCADE, related_name="shipment_reports")
    package_key = models.CharField(max_length=120, blank=True)
    carrier = models.CharField(_("carrier"), max_length=120, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=120, blank=True)
    platform_tracking_number = models.CharField(_("platform tracking number"), max_length=120, blank=True)
    status = models.CharField(
        _("report status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    done_at = models.DateTimeField(_("reported at"), null=True, blank=True)

    objects = ShipmentReportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "package_key"], name="shipment_report_once_per_package")
        ]
        verbose_name = _("shipment report")
        verbose_name_plural = _("shipment reports")

    def __str__(self):
        return f"{self.order} {self.status}"


class ShipmentReportAttempt(models.Model):
    """Every try of a shipment report, shown on the order."""

    report = models.ForeignKey(ShipmentReport, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(_("time"), auto_now_add=True)
    outcome = models.CharField(_("outcome"), max_length=20)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.report_id} {self.outcome}"


# --- product mapping sync and stock push (issue 4) ---------------------------------------------------
class ProductSyncRunQuerySet(MerchantScopedQuerySet):
    merchant_field = "ec_account__merchant"


class ProductSyncRun(models.Model):
    """One "Sync Product Mappings" job: every platform item/variant pulled and matched."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    ec_account = models.ForeignKey(ECAccount, on_delete=models.CASCADE, related_name="product_sync_runs")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    variants_seen = models.PositiveIntegerField(_("platform products seen"), default=0)
    mapped = models.PositiveIntegerField(_("mapped"), default=0)
    new_mappings = models.PositiveIntegerField(_("new mappings"), default=0)
    unmatched = models.PositiveIntegerField(_("unmatched"), default=0)
    ambiguous = models.PositiveIntegerField(_("ambiguous"), default=0)
    # [{sku, item_id, variant_id, name, reason}] (capped), shown on the run and in the API.
    unmatched_items = models.JSONField(default=list, blank=True)
    message = models.TextField(_("message"), blank=True)

    objects = ProductSyncRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("product mapping sync")
        verbose_name_plural = _("product mapping syncs")

    def __str__(self):
        return f"{self.ec_account} sync {self.status}"


class StockRunQuerySet(MerchantScopedQuerySet):
    merchant_field = "ec_account__merchant"


class StockRun(models.Model):
    """A group of stock pushes to one account: the inbound push of one receipt, or one manual
    stock sync. Its status summarises the per-SKU outcomes (G6)."""

    class Kind(models.TextChoices):
        INBOUND = "inbound", _("Inbound push")
        MANUAL_SYNC = "manual_sync", _("Manual stock sync")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        PARTIAL = "partial", _("Partial success")
        FAILED = "failed", _("Failed")

    ec_account = models.ForeignKey(ECAccount, on_delete=models.CASCADE, related_name="stock_runs")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    receipt = models.ForeignKey(
        "inventory.InboundReceipt",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stock_runs",
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    push_percentage = models.PositiveSmallIntegerField(_("push percentage"), null=True, blank=True)
    zero_count = models.PositiveIntegerField(_("SKUs set to zero"), default=0)
    succeeded = models.PositiveIntegerField(_("succeeded"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = StockRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock push run")
        verbose_name_plural = _("stock push runs")

    def __str__(self):
        return f"{self.ec_account} {self.kind} {self.status}"


class StockPushQuerySet(MerchantScopedQuerySet):
    merchant_field = "ec_account__merchant"


class StockPush(models.Model):
    """Outbox row: one stock change for one mapped product on one account (G6: per-SKU outcome).

    Inbound pushes add ``quantity`` (a delta) and are unique per (receipt line, account): a line
    is never pushed twice to the same account. Manual syncs set ``quantity`` (absolute).
    Before a non-idempotent write the row records what it read (``observed_before``) and what
    the platform should show afterwards (``expected_after``), so a retry after a worker died
    mid-call can tell "applied" from "not applied" instead of adding again."""

    class Mode(models.TextChoices):
        DELTA = "delta", _("Add")
        ABSOLUTE = "absolute", _("Overwrite")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(StockRun, on_delete=models.CASCADE, related_name="pushes")
    ec_account = models.ForeignKey(ECAccount, on_delete=models.CASCADE, related_name="stock_pushes")
    product = models.ForeignKey("inventory.Product", on_delete=models.CASCADE, related_name="stock_pushes")
    mapping = models.ForeignKey(
        ProductMapping, null=True, blank=True, on_delete=models.SET_NULL, related_name="pushes"
    )
    receipt_line = models.ForeignKey(
        "inventory.InboundReceiptLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stock_pushes",
    )
    platform_sku = models.CharField(_("platform SKU"), max_length=120, blank=True)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    quantity = models.IntegerField(_("quantity"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Part of the idempotency key: raised whenever the platform definitively answered "not
    # applied" (a retryable refusal, throttling), so the next try is a new request rather than a
    # replay the platform would answer with the old refusal. A lost answer keeps the key.
    key_generation = models.PositiveSmallIntegerField(default=0, editable=False)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    observed_before = models.IntegerField(_("platform quantity before"), null=True, blank=True)
    expected_after = models.IntegerField(null=True, blank=True)
    platform_after = models.IntegerField(_("platform quantity after"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    done_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = StockPushQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["receipt_line", "ec_account"],
                condition=models.Q(receipt_line__isnull=False),
                name="stock_push_once_per_line_and_account",
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="stock_push_due_idx")]
        verbose_name = _("stock push")
        verbose_name_plural = _("stock pushes")

    def __str__(self):
        return f"{self.platform_sku} {self.mode} {self.quantity} {self.status}"

    @property
    def idempotency_key(self) -> str:
        return f"ecbridge-stock-push-{self.pk}-{self.key_generation}"
