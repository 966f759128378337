"""Notifications for the bell at the top right. Addressed to a merchant; every user who may see
that merchant sees it (read state is per user)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ecbridge.core.messages import Msg
from ecbridge.tenancy.models import Merchant, MerchantScopedQuerySet


class NotificationQuerySet(MerchantScopedQuerySet):
    def unread_for(self, user):
        return self.for_user(user).exclude(read_by=user)


class Notification(models.Model):
    class Level(models.TextChoices):
        INFO = "info", _("Information")
        SUCCESS = "success", _("Success")
        WARNING = "warning", _("Warning")
        ERROR = "error", _("Error")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="notifications")
    ec_account = models.ForeignKey(
        "integrations.ECAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    kind = models.CharField(max_length=40, help_text=_("What happened, for filtering (e.g. disconnected)."))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(max_length=300, blank=True)
    # The same texts as messages (core.messages.Msg), rendered when read, in the reader's language;
    # ``title``/``body`` keep them in the default language (and are all older rows have).
    title_message = models.JSONField(null=True, blank=True, editable=False)
    body_message = models.JSONField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    read_by = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return self.title

    @property
    def shown_title(self) -> str:
        return Msg.from_json(self.title_message).render() if self.title_message else self.title

    @property
    def shown_body(self) -> str:
        return Msg.from_json(self.body_message).render() if self.body_message else self.body
