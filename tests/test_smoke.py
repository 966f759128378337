import pytest


@pytest.mark.django_db
def test_login_page_renders(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_sandbox_console_health(sandbox_client):
    assert sandbox_client.get("/sandbox/_health").json() == {"ok": True}
