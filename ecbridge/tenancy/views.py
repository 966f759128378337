from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ecbridge.tenancy.forms import ApiTokenForm
from ecbridge.tenancy.middleware import SESSION_KEY
from ecbridge.tenancy.models import ApiToken


@login_required
@require_POST
def switch_merchant(request):
    """Header merchant switcher: narrow lists to one merchant, or show all again."""
    merchant_id = request.POST.get("merchant") or ""
    if merchant_id and request.user.merchants().filter(pk=merchant_id).exists():
        request.session[SESSION_KEY] = int(merchant_id)
    else:
        request.session.pop(SESSION_KEY, None)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


@login_required
def api_tokens(request):
    new_token = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, new_token = ApiToken.issue(request.user, form.cleaned_data["name"])
        messages.success(request, _("Token created. Copy it now: it will not be shown again."))
        form = ApiTokenForm()
    tokens = request.user.api_tokens.all()
    return render(
        request, "tenancy/api_tokens.html", {"form": form, "tokens": tokens, "new_token": new_token}
    )


@login_required
@require_POST
def revoke_api_token(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token.delete()
    messages.success(request, _("Token revoked."))
    return redirect("tenancy:api_tokens")
