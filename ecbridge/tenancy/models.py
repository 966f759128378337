"""Users, roles and merchants. Every merchant-owned queryset is narrowed with ``for_user``."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Merchant(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    WAREHOUSE_ADMIN = "warehouse_admin", _("Warehouse admin")
    OPERATOR = "operator", _("Operator")
    MERCHANT_USER = "merchant_user", _("Merchant user")


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.OPERATOR)
    merchant = models.ForeignKey(
        Merchant,
        verbose_name=_("merchant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("Merchant users only: the one merchant they belong to."),
    )
    assigned_merchants = models.ManyToManyField(
        Merchant,
        verbose_name=_("assigned merchants"),
        blank=True,
        related_name="operators",
        help_text=_("Operators only: the merchants they may see and manage."),
    )

    @property
    def sees_all_merchants(self) -> bool:
        return self.is_superuser or self.role == Role.WAREHOUSE_ADMIN

    def merchants(self):
        """The merchants this user may see (never raises; an inactive user sees none)."""
        if not self.is_active:
            return Merchant.objects.none()
        if self.sees_all_merchants:
            return Merchant.objects.all()
        if self.role == Role.MERCHANT_USER:
            return (
                Merchant.objects.filter(pk=self.merchant_id) if self.merchant_id else Merchant.objects.none()
            )
        return self.assigned_merchants.all()

    @property
    def is_multi_merchant(self) -> bool:
        """Multi-merchant mode: lists show the merchant column and filter, and a header switcher."""
        return self.merchants().count() > 1


class MerchantScopedQuerySet(models.QuerySet):
    """Querysets of merchant-owned rows. ``merchant_field`` names the path to the merchant."""

    merchant_field = "merchant"

    def for_user(self, user, merchant=None):
        """Rows of the merchants ``user`` may see; narrowed to ``merchant`` when one is picked."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        qs = self.filter(**{f"{self.merchant_field}__in": user.merchants()})
        if merchant is not None:
            qs = qs.filter(**{self.merchant_field: merchant})
        return qs


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its hash is stored; the raw value is shown once on creation."""

    PREFIX = "ecb_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text=_("The first characters, to recognise the token."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def issue(cls, user, name: str) -> tuple["ApiToken", str]:
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=_hash_token(raw), hint=raw[:10])
        return token, raw

    @classmethod
    def authenticate(cls, raw: str):
        token = cls.objects.select_related("user").filter(key_hash=_hash_token(raw or "")).first()
        if token is None or not token.user.is_active:
            return None
        cls.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user
