from django import template
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
