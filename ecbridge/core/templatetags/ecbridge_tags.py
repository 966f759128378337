from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (None removes one). Keeps repeated
    filter parameters intact, and drops the page number when anything else changes."""
    params = context["request"].GET.copy()
    if "page" not in changes:
        params.pop("page", None)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_link(context, key):
    """Query string that sorts by ``key``, toggling the direction when it is already active."""
    active = context.get("sort", "")
    new = f"-{key}" if active == key else key
    return query_with(context, sort=new)


@register.simple_tag(takes_context=True)
def sort_icon(context, key):
    active = context.get("sort", "")
    if active == key:
        return "bi-sort-up"
    if active == f"-{key}":
        return "bi-sort-down"
    return "bi-arrow-down-up text-body-tertiary"
