"""Another merchant's user tries every URL of Acme's EC accounts in a browser: each one answers
exactly as for an account that does not exist (404; 405 where only POST is allowed), every POST is
refused with 404 and changes nothing, and no Acme name appears anywhere."""

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from ecbridge.apilog.models import ApiCall
from ecbridge.integrations.models import ECAccount
from ecbridge.integrations.services import lifecycle
from tests.factories import ECAccountFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

MISSING = 987654


def snapshot(accounts):
    return [
        (a.pk, a.display_name, a.status, a.tokens_encrypted, a.credentials_encrypted, a.push_percentage)
        for a in ECAccount.objects.filter(pk__in=[x.pk for x in accounts]).order_by("pk")
    ]


@pytest.mark.e2e
def test_other_merchants_user_gets_404_on_every_acme_url(
    site, connected_accounts, operator, other_merchant_user, other_merchant, other_channel
):
    page = site.page
    acme = connected_accounts.all()
    ECAccountFactory(merchant=other_merchant, sales_channel=other_channel, display_name="Beta momo")
    before = snapshot(acme)
    acme_call = ApiCall.objects.filter(ec_account__in=acme).first()
    assert acme_call is not None
    shopee_state = parse_qs(urlsplit(lifecycle.authorize_url(connected_accounts.shopee, operator)).query)[
        "state"
    ][0]

    site.login("beta")
    expect(page.locator("#account-table")).to_contain_text("Beta momo")
    for account in acme:
        expect(page.locator("#account-table")).not_to_contain_text(account.display_name)
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    headers = {"X-CSRFToken": csrf}

    def get_status(path):
        return site.goto(path).status

    def request_status(path, method="POST", data=None):
        response = page.request.fetch(
            site.url(path), method=method, headers=headers, form=data, max_redirects=0
        )
        return response.status

    for account in acme:
        oauth = account.spec.is_oauth
        gets = ["/ec-accounts/{}/", "/ec-accounts/{}/edit/", "/api/v1/ec-accounts/{}"]
        gets += ["/ec-accounts/{}/authorize/", "/api/v1/ec-accounts/{}/authorize-url"] if oauth else []
        for template in gets:
            assert get_status(template.format(account.pk)) == 404, template
            if template == "/ec-accounts/{}/":
                expect(page.locator("body")).not_to_contain_text(account.display_name)
                site.shot(f"404-{account.platform}")
            assert get_status(template.format(MISSING)) == 404, template
        # POST-only URLs requested with GET (chromium shows its own page for an empty 405, so
        # through the tab's request context): the same answer as for a missing account.
        for template in (
            "/ec-accounts/{}/delete/",
            "/ec-accounts/{}/revoke/",
            "/ec-accounts/{}/test-connection/",
        ):
            assert request_status(template.format(account.pk), "GET") == 405
            assert request_status(template.format(MISSING), "GET") == 405
        posts = [
            ("/ec-accounts/{}/delete/", "POST", {}),
            ("/ec-accounts/{}/revoke/", "POST", {}),
            ("/ec-accounts/{}/test-connection/", "POST", {}),
            ("/ec-accounts/{}/edit/", "POST", {"display_name": "Hijacked", "action": "save"}),
            ("/api/v1/ec-accounts/{}/test-connection", "POST", None),
            ("/api/v1/ec-accounts/{}", "DELETE", None),
        ]
        for template, method, data in posts:
            assert request_status(template.format(account.pk), method, data) == 404, template
            assert request_status(template.format(MISSING), method, data) == 404, template
        response = page.request.fetch(
            site.url(f"/api/v1/ec-accounts/{account.pk}"),
            method="PATCH",
            headers={**headers, "Content-Type": "application/json"},
            data='{"display_name": "Hijacked"}',
        )
        assert response.status == 404

        # Its sales channel, and the platform API-log rows it left, are just as invisible.
        assert get_status(f"/sales-channels/{account.sales_channel_id}/") == 404
        assert get_status(f"/sales-channels/{account.sales_channel_id}/edit/") == 404

    assert get_status(f"/api-logs/{acme_call.pk}/") == 404
    site.goto(f"/api-logs/?ec_account={connected_accounts.momo.pk}")
    expect(page.locator("main")).not_to_contain_text("Acme")

    # An authorization started by the operator cannot be completed by this user.
    response = site.goto(f"/ec-accounts/oauth/shopee/callback/?state={shopee_state}&code=x&shop_id=1")
    assert response.status == 400

    assert snapshot(acme) == before  # nothing changed, nothing deleted
    for account in acme:
        account.refresh_from_db()
        assert account.status == "connected"
    assert all("Acme" not in body for _m, _u, _s, body in site.log.bodies)
    site.log.assert_no_secrets(*connected_accounts.secrets())
