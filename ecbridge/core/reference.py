"""Warehouse reference data (shipping types, inventory types) named in both languages of the
product: a page shows the name of the reader's language."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class BilingualName(models.Model):
    name = models.CharField(_("name"), max_length=80)
    name_zh_hant = models.CharField(_("name (Traditional Chinese)"), max_length=80, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.shown_name

    @property
    def shown_name(self) -> str:
        """The Traditional Chinese name for a Chinese reader when there is one, else the English."""
        if self.name_zh_hant and (get_language() or "").lower().startswith("zh"):
            return self.name_zh_hant
        return self.name
