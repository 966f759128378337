"""API authentication: personal tokens (Authorization: Bearer …), or the browser session."""

from ninja.security import HttpBearer, django_auth

from ecbridge.tenancy.models import ApiToken


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = ApiToken.authenticate(token)
        if user is not None:
            request.user = user
        return user


AUTH = [TokenAuth(), django_auth]
