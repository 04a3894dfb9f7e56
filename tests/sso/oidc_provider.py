"""A real OpenID Connect provider for the sign-in tests: django-oauth-toolkit with OIDC on, in
its own tiny Django project and process, on 127.0.0.1.

    python -m tests.sso.oidc_provider --port 8101 --client-id peermentor \
        --client-secret s3cret \
        --redirect-uri http://testserver/accounts/oidc/keycloak/login/callback/ \
        --user ana@example.org:password:Ana Example

It serves discovery (/o/.well-known/openid-configuration), JWKS, authorize, token and
userinfo, with a plain sign-in page at /login/ for its own users. The tests start it with
`running_oidc_provider` below and drive it through HTTP only, as Peermentor does.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIServer, make_server

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the provider at {url} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the provider at {url} did not answer in {seconds} s")


@dataclass
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str


@contextmanager
def running_oidc_provider(
    *, redirect_uris: list[str], users: list[tuple[str, str, str]]
) -> Iterator[OidcProvider]:
    """Start the provider in a child process; stop it afterwards."""
    port = free_port()
    provider = OidcProvider(
        issuer=f"http://127.0.0.1:{port}/o",
        client_id="peermentor-test",
        client_secret="test-client-secret-" + os.urandom(8).hex(),
    )
    command = [
        sys.executable,
        "-m",
        "tests.sso.oidc_provider",
        f"--port={port}",
        f"--client-id={provider.client_id}",
        f"--client-secret={provider.client_secret}",
        *[f"--redirect-uri={uri}" for uri in redirect_uris],
        *[f"--user={email}:{password}:{name}" for email, password, name in users],
    ]
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    process = subprocess.Popen(command, cwd=ROOT, env=environment)
    try:
        wait_until_serving(f"{provider.issuer}/.well-known/openid-configuration", process)
        yield provider
    finally:
        process.terminate()
        process.wait(timeout=10)


def sign_in_at_provider(authorize_url: str, email: str, password: str) -> str:
    """Follow the authorization URL as a browser would, signing in at the provider's page;
    return the URL the provider sends the browser back to (the client's callback)."""
    session = requests.Session()
    response = session.get(authorize_url, allow_redirects=True, timeout=10)
    assert "/login/" in response.url, response.url
    response = session.post(
        response.url,
        data={
            "username": email,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": response.url},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text
    # Back to /o/authorize/, which answers with the redirect to the client's callback.
    response = session.get(
        requests.compat.urljoin(response.url, response.headers["Location"]),
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


# ---- the provider's own Django project (runs in the child process only) -------------------

LOGIN_PAGE = """<!doctype html><html lang="en"><head><title>Test identity provider</title></head>
<body><main><h1>Test identity provider</h1>{error}
<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="{token}">
<label>E-mail <input name="username" type="email"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in to the provider</button></form></main></body></html>"""


def login_view(request):  # the provider's sign-in page
    from django.contrib.auth import authenticate, login
    from django.http import HttpResponse, HttpResponseRedirect
    from django.middleware.csrf import get_token

    error = ""
    if request.method == "POST":
        user = authenticate(
            request, username=request.POST["username"], password=request.POST["password"]
        )
        if user is not None:
            login(request, user)
            return HttpResponseRedirect(request.GET.get("next", "/"))
        error = "<p>Wrong e-mail or password.</p>"
    return HttpResponse(LOGIN_PAGE.format(error=error, token=get_token(request)))


def _validator_class():
    from oauth2_provider.oauth2_validators import OAuth2Validator

    class Validator(OAuth2Validator):
        """Claims as Entra ID, Okta or Keycloak send them for the openid, profile and email
        scopes."""

        oidc_claim_scope = OAuth2Validator.oidc_claim_scope

        def get_additional_claims(self, request):
            user = request.user
            return {
                "email": user.email,
                "email_verified": True,
                "name": user.first_name,
                "given_name": user.first_name.split(" ")[0],
                "preferred_username": user.email,
            }

    return Validator


urlpatterns: list = []


def _configure(arguments: argparse.Namespace, database: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.conf import settings

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    settings.configure(
        DEBUG=False,
        SECRET_KEY="oidc-test-provider-" + os.urandom(16).hex(),
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "oauth2_provider",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}],
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        LOGIN_URL="/login/",
        USE_TZ=True,
        OAUTH2_PROVIDER={
            "OIDC_ENABLED": True,
            "OIDC_RSA_PRIVATE_KEY": pem,
            "PKCE_REQUIRED": True,
            "SCOPES": {"openid": "OpenID Connect", "profile": "Profile", "email": "E-mail"},
            "OAUTH2_VALIDATOR_CLASS": f"{__name__}.Validator",
            "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
        },
    )


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--redirect-uri", action="append", default=[])
    parser.add_argument("--user", action="append", default=[], help="email:password:name")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        _configure(arguments, Path(scratch) / "provider.sqlite3")
        import django

        django.setup()
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.core.wsgi import get_wsgi_application
        from django.urls import include, path
        from oauth2_provider.models import Application

        globals()["Validator"] = _validator_class()
        urlpatterns.extend(
            [
                path("login/", login_view),
                path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
            ]
        )
        call_command("migrate", verbosity=0)
        for spec in arguments.user:
            email, password, name = spec.split(":", 2)
            User.objects.create_user(
                username=email, email=email, password=password, first_name=name
            )
        Application.objects.create(
            name="Peermentor",
            client_id=arguments.client_id,
            client_secret=arguments.client_secret,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(arguments.redirect_uri),
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
        )
        server = make_server(
            "127.0.0.1", arguments.port, get_wsgi_application(), server_class=_ThreadingServer
        )
        print(json.dumps({"serving": arguments.port}), flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
