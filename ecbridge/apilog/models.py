"""One row per outbound platform call attempt or inbound platform notification (G24)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ecbridge.tenancy.models import Merchant, MerchantScopedQuerySet


class ApiCallQuerySet(MerchantScopedQuerySet):
    pass


class ApiCall(models.Model):
    class Direction(models.TextChoices):
        OUTBOUND = "outbound", _("Outbound call")
        INBOUND = "inbound", _("Inbound notification")

    class Outcome(models.TextChoices):
        SUCCESS = "success", _("Success")
        FAILURE = "failure", _("Failure")

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    merchant = models.ForeignKey(
        Merchant,
        verbose_name=_("merchant"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # Kept after the account is deleted (SET_NULL) so its history stays readable.
    ec_account = models.ForeignKey(
        "integrations.ECAccount",
        verbose_name=_("EC account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="api_calls",
    )
    account_label = models.CharField(_("EC account"), max_length=200, blank=True)
    platform = models.CharField(_("platform"), max_length=30, db_index=True)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    operation = models.CharField(_("operation"), max_length=80)
    method = models.CharField(_("method"), max_length=10)
    endpoint = models.TextField(_("endpoint"))
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, db_index=True)
    error = models.TextField(_("failure reason"), blank=True)
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    request_headers = models.TextField(blank=True)
    request_body = models.TextField(blank=True)
    response_body = models.TextField(blank=True)

    objects = ApiCallQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["outcome", "created_at"], name="apicall_retention_idx")]
        verbose_name = _("platform API call")
        verbose_name_plural = _("platform API calls")

    def __str__(self):
        return f"{self.operation} {self.outcome}"
