"""EC accounts: one store account on one platform for one merchant, bound to a sales channel."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
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

    fetch_orders_enabled = models.BooleanField(_("fetch orders"), default=False)
    fetch_times = models.JSONField(_("fetch schedule times"), default=list, blank=True)
    next_fetch_at = models.DateTimeField(_("next fetch time"), null=True, blank=True)
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
            )
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
