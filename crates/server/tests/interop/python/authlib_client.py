"""Authlib as an OpenID Connect relying party and as an RFC 9068 resource server.

The relying party is Authlib's framework-neutral client (``OAuth2Mixin`` + ``OpenIDMixin`` over
``requests_client.OAuth2Session``, what its Flask, Django and Starlette integrations are made
of): discovery from ``server_metadata_url``, the authorization URL with PKCE S256, state and
nonce, the code exchange (state checked), ``parse_id_token`` (signature against the JWKS, iss,
aud, nonce, at_hash), userinfo, refresh, introspection, revocation and client credentials.
The resource server is ``authlib.oauth2.rfc9068.JWTBearerTokenValidator``.

    python authlib_client.py code|client-credentials|rfc9068
"""

import sys

import requests
from authlib.integrations.base_client import BaseApp, OAuth2Mixin, OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from authlib.oauth2.rfc6750.errors import InvalidTokenError

from harness import env, failure, logout, result, user_authorizes


class NoFramework:
    """The framework hooks the integrations fill in; a script keeps tokens itself."""

    def update_token(self, token, refresh_token=None, access_token=None):
        pass


class OpenIDApp(OAuth2Mixin, OpenIDMixin, BaseApp):
    client_cls = OAuth2Session


class Validator(JWTBearerTokenValidator):
    def get_jwks(self):
        metadata = requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10)
        return requests.get(metadata.json()["jwks_uri"], timeout=10).json()


def app():
    return OpenIDApp(
        NoFramework(),
        name="portcullis",
        client_id=env("CLIENT_ID"),
        client_secret=env("CLIENT_SECRET"),
        server_metadata_url=f"{env('ISSUER')}/.well-known/openid-configuration",
        client_kwargs={"scope": env("SCOPE"), "code_challenge_method": "S256"},
    )


def resource_server_sees(token, scopes):
    validator = Validator(issuer=env("ISSUER"), resource_server=env("AUDIENCE"))
    claims = validator.authenticate_token(token)
    validator.validate_token(claims, scopes, request=None)
    return dict(claims)


def code_flow():
    oidc = app()
    metadata = oidc.load_server_metadata()
    redirect_uri = env("REDIRECT_URI")
    started = oidc.create_authorization_url(redirect_uri)
    callback = user_authorizes(started["url"])
    token = oidc.fetch_access_token(
        redirect_uri,
        authorization_response=callback,
        state=started["state"],
        code_verifier=started["code_verifier"],
    )
    id_token = oidc.parse_id_token(token, nonce=started["nonce"])
    userinfo = oidc.userinfo(token=token)
    with oidc._get_oauth_client(**metadata) as session:
        refreshed = session.refresh_token(
            metadata["token_endpoint"], refresh_token=token["refresh_token"]
        )
        introspection = session.introspect_token(
            metadata["introspection_endpoint"], token=refreshed["access_token"]
        ).json()
        access_token = resource_server_sees(refreshed["access_token"], ["openid"])
        revoked = session.revoke_token(
            metadata["revocation_endpoint"],
            token=refreshed["refresh_token"],
            token_type_hint="refresh_token",
        )
        try:
            session.refresh_token(
                metadata["token_endpoint"], refresh_token=refreshed["refresh_token"]
            )
            after_revocation = None
        except Exception as error:  # noqa: BLE001 - reported to the Rust side
            after_revocation = failure(error)
    logged_out = logout(
        metadata,
        lambda uri: oidc.create_logout_url(
            post_logout_redirect_uri=uri, id_token_hint=token["id_token"]
        ),
    )
    return {
        "issuer": metadata["issuer"],
        "scope": token.get("scope"),
        "id_token": dict(id_token),
        "userinfo": dict(userinfo),
        "refreshed": {
            "rotated": refreshed["refresh_token"] != token["refresh_token"],
            "new_access_token": refreshed["access_token"] != token["access_token"],
        },
        "introspection": introspection,
        "access_token": access_token,
        "revocation_status": revoked.status_code,
        "after_revocation": after_revocation,
        "logged_out": logged_out,
    }


def client_credentials():
    oidc = app()
    metadata = oidc.load_server_metadata()
    with OAuth2Session(
        client_id=env("CLIENT_ID"), client_secret=env("CLIENT_SECRET"), scope=env("SCOPE")
    ) as session:
        token = session.fetch_token(
            metadata["token_endpoint"], grant_type="client_credentials"
        )
    return {
        "token_type": token["token_type"],
        "scope": token.get("scope"),
        "access_token": resource_server_sees(token["access_token"], env("SCOPE").split()),
    }


def rfc9068():
    """Only the resource server, on a token the test got: reports a refusal, not a crash."""
    try:
        return {"claims": resource_server_sees(env("ACCESS_TOKEN"), []), "refused": None}
    except InvalidTokenError as error:
        cause = error.__cause__
        return {"claims": None, "refused": type(cause).__name__ if cause else error.error}


if __name__ == "__main__":
    mode = sys.argv[1]
    modes = {"code": code_flow, "client-credentials": client_credentials, "rfc9068": rfc9068}
    result(modes[mode]())
