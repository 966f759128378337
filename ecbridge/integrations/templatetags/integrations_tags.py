from django import template
from django.conf import settings
from django.utils.html import format_html

from ecbridge.integrations.models import ConnectionStatus
from ecbridge.platforms.registry import all_specs

register = template.Library()


@register.simple_tag
def platform_tag(code):
    spec = all_specs().get(code)
    name = spec.name if spec else code
    color = spec.color if spec else "#6c757d"
    return format_html('<span class="badge platform-tag" style="background:{}">{}</span>', color, name)


@register.simple_tag
def status_light(status):
    label = ConnectionStatus(status).label if status in ConnectionStatus.values else status
    return format_html('<span class="status-light {}" aria-hidden="true"></span>{}', status, label)


@register.simple_tag
def status_tag(status):
    css = {"connected": "success", "disconnected": "danger", "not_verified": "warning"}.get(
        status, "secondary"
    )
    label = ConnectionStatus(status).label if status in ConnectionStatus.values else status
    return format_html('<span class="badge text-bg-{}" id="status-tag">{}</span>', css, label)


@register.inclusion_tag("integrations/_progress.html")
def progress_badge(work, dom_id="", badge_class=""):
    """The status of a run or report with its counts; while it runs it polls itself, and the page
    reloads once when it ends (so every table on it shows the final state)."""
    from ecbridge.integrations.services import progress

    state = progress.of(work)
    return {
        "progress": state,
        "dom_id": dom_id or f"progress-{state.kind}-{state.pk}",
        "badge_class": badge_class,
        "poll_seconds": settings.PROGRESS_POLL_SECONDS,
    }
