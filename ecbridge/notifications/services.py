from ecbridge.notifications.models import Notification


def notify(
    *,
    merchant_id: int,
    kind: str,
    title: str,
    body: str = "",
    level: str = "info",
    ec_account=None,
    link: str = "",
) -> Notification:
    """Raise a notification for everyone who may see ``merchant_id``. ``title``/``body`` are
    stored already translated into the active language of the caller (jobs use the default)."""
    return Notification.objects.create(
        merchant_id=merchant_id,
        kind=kind,
        title=str(title)[:200],
        body=str(body),
        level=level,
        ec_account=ec_account,
        link=link,
    )
