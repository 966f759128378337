"""Cross-cutting models: leases (TTL locks shared by every process, on SQLite and PostgreSQL)."""

from django.db import models


class Lease(models.Model):
    """A named lock with a time-to-live. Held by one owner until released or expired, so a
    crashed worker never blocks a key forever (G19)."""

    key = models.CharField(max_length=200, primary_key=True)
    owner = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)
    acquired_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.key} ({self.owner})"
