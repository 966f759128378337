from django.conf import settings
from django.utils import translation

from ecbridge.core.messages import Msg
from ecbridge.notifications.models import Notification


def notify(
    *,
    merchant_id: int,
    kind: str,
    title: Msg | str,
    body: Msg | str = "",
    level: str = "info",
    ec_account=None,
    link: str = "",
) -> Notification:
    """Raise a notification for everyone who may see ``merchant_id``. Give ``title``/``body`` as
    ``Msg`` so each reader sees them in their own language; a plain string (a platform's own
    error text) is shown as it is."""
    with translation.override(settings.LANGUAGE_CODE):
        title_text, body_text = str(title), str(body)
    return Notification.objects.create(
        merchant_id=merchant_id,
        kind=kind,
        title=title_text[:200],
        body=body_text,
        title_message=title.to_json() if isinstance(title, Msg) else None,
        body_message=body.to_json() if isinstance(body, Msg) else None,
        level=level,
        ec_account=ec_account,
        link=link,
    )
