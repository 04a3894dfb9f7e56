"""A real SAML 2.0 identity provider for the sign-in tests: pysaml2's IdP (signing with
Debian's xmlsec1) behind a small WSGI app, in its own process on 127.0.0.1.

    python -m tests.sso.saml_idp --port 8102 --sp-metadata sp.xml \
        --user ana@example.org:password:Ana Example

It serves its metadata at /metadata, takes AuthnRequests (HTTP-Redirect binding) at
/sso/redirect, shows a sign-in page for its own users, and posts a signed Response (with a
signed assertion carrying the e-mail address as urn:oid:0.9.2342.19200300.100.1.3, as Entra ID
and Okta can be set to) back to the service provider's assertion consumer service.
"""

import argparse
import datetime
import html
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIServer, make_server

import requests

from tests.sso.oidc_provider import ROOT, free_port, wait_until_serving

XMLSEC1 = Path("/usr/bin/xmlsec1")
PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"

SP_METADATA = """<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">
  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true"
      protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
{services}
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"""
ACS = (
    '    <md:AssertionConsumerService index="{index}" Location="{url}"'
    ' Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"/>'
)


@dataclass
class SamlIdp:
    entity_id: str
    metadata_url: str


def service_provider_metadata(entity_id: str, acs_urls: list[str]) -> str:
    """What Peermentor's /accounts/saml/idp/metadata/ says, for the hosts the tests use."""
    services = "\n".join(ACS.format(index=i, url=url) for i, url in enumerate(acs_urls))
    return SP_METADATA.format(entity_id=entity_id, services=services)


@contextmanager
def running_saml_idp(
    *, sp_entity_id: str, acs_urls: list[str], users: list[tuple[str, str, str]]
) -> Iterator[SamlIdp]:
    if not XMLSEC1.exists():
        raise RuntimeError("xmlsec1 is missing: `make xmlsec1` installs Debian's package")
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        sp_metadata = Path(scratch) / "sp.xml"
        sp_metadata.write_text(service_provider_metadata(sp_entity_id, acs_urls))
        command = [
            sys.executable,
            "-m",
            "tests.sso.saml_idp",
            f"--port={port}",
            f"--sp-metadata={sp_metadata}",
            *[f"--user={email}:{password}:{name}" for email, password, name in users],
        ]
        process = subprocess.Popen(command, cwd=ROOT)
        idp = SamlIdp(
            entity_id=f"http://127.0.0.1:{port}/metadata",
            metadata_url=f"http://127.0.0.1:{port}/metadata",
        )
        try:
            wait_until_serving(idp.metadata_url, process)
            yield idp
        finally:
            process.terminate()
            process.wait(timeout=10)


def sign_in_at_idp(redirect_url: str, email: str, password: str) -> tuple[str, dict[str, str]]:
    """Follow the AuthnRequest redirect as a browser would and sign in at the IdP; return the
    assertion consumer URL and the form fields the IdP's page would post there."""
    session = requests.Session()
    page = session.get(redirect_url, timeout=10)
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    answer = session.post(
        page.url.split("?")[0].replace("/sso/redirect", "/sso/login"),
        data={
            **{k: html.unescape(v) for k, v in fields.items()},
            "email": email,
            "password": password,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    action = re.search(r'<form[^>]*action="([^"]+)"', answer.text)
    assert action, answer.text
    posted = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', answer.text))
    return html.unescape(action.group(1)), {k: html.unescape(v) for k, v in posted.items()}


# ---- the IdP itself (runs in the child process only) ---------------------------------------

LOGIN_PAGE = """<!doctype html><html lang="en"><head><title>Test SAML identity provider</title>
</head><body><main><h1>Test SAML identity provider</h1>{error}
<form method="post" action="/sso/login">
<input type="hidden" name="SAMLRequest" value="{request}">
<input type="hidden" name="RelayState" value="{relay_state}">
<label>E-mail <input name="email" type="email"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in to the identity provider</button></form></main></body></html>"""


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test SAML IdP")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / "idp.key", directory / "idp.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def _server(port: int, sp_metadata: str, directory: Path):
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
    from saml2.config import IdPConfig
    from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS
    from saml2.server import Server

    key_file, cert_file = _self_signed(directory)
    base = f"http://127.0.0.1:{port}"
    config = IdPConfig()
    config.load(
        {
            "entityid": f"{base}/metadata",
            "service": {
                "idp": {
                    "name": "Test SAML IdP",
                    "endpoints": {
                        "single_sign_on_service": [
                            (f"{base}/sso/redirect", BINDING_HTTP_REDIRECT),
                        ],
                    },
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": 15},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "want_authn_requests_signed": False,
                    "sign_response": True,
                    "sign_assertion": True,
                }
            },
            "key_file": str(key_file),
            "cert_file": str(cert_file),
            "metadata": {"local": [sp_metadata]},
            "xmlsec_binary": str(XMLSEC1),
            "allow_unknown_attributes": True,
        }
    )
    return (
        Server(config=config),
        BINDING_HTTP_POST,
        BINDING_HTTP_REDIRECT,
        NAMEID_FORMAT_EMAILADDRESS,
    )


def _application(server_parts, users: dict[str, tuple[str, str]]):
    from saml2.metadata import create_metadata_string
    from saml2.saml import NameID
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

    server, binding_post, binding_redirect, email_format = server_parts
    metadata = create_metadata_string(None, config=server.config, valid=24)

    def respond(start_response, body, status="200 OK", content_type="text/html; charset=utf-8"):
        data = body if isinstance(body, bytes) else body.encode()
        start_response(status, [("Content-Type", content_type)])
        return [data]

    def application(environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/metadata":
            return respond(start_response, metadata, content_type="application/samlmetadata+xml")
        if path == "/sso/redirect":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            page = LOGIN_PAGE.format(
                error="",
                request=html.escape(query["SAMLRequest"][0]),
                relay_state=html.escape(query.get("RelayState", [""])[0]),
            )
            return respond(start_response, page)
        if path == "/sso/login" and environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            form = {k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(size).decode()).items()}
            email = form.get("email", "")
            if users.get(email, ("", ""))[0] != form.get("password"):
                page = LOGIN_PAGE.format(
                    error="<p>Wrong e-mail or password.</p>",
                    request=html.escape(form["SAMLRequest"]),
                    relay_state=html.escape(form.get("RelayState", "")),
                )
                return respond(start_response, page, status="401 Unauthorized")
            request = server.parse_authn_request(form["SAMLRequest"], binding_redirect)
            message = request.message
            destination = message.assertion_consumer_service_url
            given_name = users[email][1].split(" ")[0]
            response = server.create_authn_response(
                identity={"mail": [email], "givenName": [given_name]},
                in_response_to=message.id,
                destination=destination,
                sp_entity_id=message.issuer.text,
                name_id=NameID(format=email_format, text=email),
                authn={
                    "class_ref": PASSWORD_PROTECTED,
                    "authn_auth": server.config.entityid,
                },
                sign_response=True,
                sign_assertion=True,
                # SHA-1 signatures are refused by the service provider, as they should be.
                sign_alg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
            )
            arguments = server.apply_binding(
                binding_post,
                str(response),
                destination,
                form.get("RelayState", ""),
                response=True,
            )
            return respond(start_response, arguments["data"])
        return respond(start_response, "not found", status="404 Not Found")

    return application


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sp-metadata", required=True)
    parser.add_argument("--user", action="append", default=[], help="email:password:name")
    arguments = parser.parse_args()
    users = {}
    for spec in arguments.user:
        email, password, name = spec.split(":", 2)
        users[email] = (password, name)
    with tempfile.TemporaryDirectory() as scratch:
        parts = _server(arguments.port, arguments.sp_metadata, Path(scratch))
        httpd = make_server(
            "127.0.0.1",
            arguments.port,
            _application(parts, users),
            server_class=_ThreadingServer,
        )
        httpd.serve_forever()


if __name__ == "__main__":
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    main()
