"""Single sign-on providers read from the environment, as django-allauth's provider settings.

OpenID Connect providers are listed by id in PEERMENTOR_OIDC_PROVIDERS ("entra,okta"); each
has PEERMENTOR_OIDC_<ID>_ISSUER, _CLIENT_ID, _CLIENT_SECRET and an optional _NAME (the
button's label). One SAML identity provider is configured by PEERMENTOR_SAML_IDP_ENTITY_ID
with either PEERMENTOR_SAML_IDP_METADATA_URL or PEERMENTOR_SAML_IDP_METADATA_XML (the XML
itself or the path of a file holding it). docs/integrations.md lists every variable.
"""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from peermentor.env import env_list, env_str

# The slug in the SAML URLs: /accounts/saml/<slug>/acs/ is the assertion consumer service.
SAML_SLUG = "idp"

# The labels of the well-known providers, so PEERMENTOR_OIDC_ENTRA_NAME is optional.
_KNOWN_NAMES = {
    "entra": "Microsoft Entra ID",
    "okta": "Okta",
    "google": "Google Workspace",
    "keycloak": "Keycloak",
}


def _required(name: str) -> str:
    value = env_str(name).strip()
    if not value:
        raise ImproperlyConfigured(f"{name} is required by the single sign-on settings")
    return value


def oidc_apps() -> list[dict[str, Any]]:
    """One allauth `openid_connect` app per id in PEERMENTOR_OIDC_PROVIDERS."""
    apps = []
    for provider_id in env_list("PEERMENTOR_OIDC_PROVIDERS", []):
        if not provider_id.replace("-", "").isalnum():
            raise ImproperlyConfigured(
                f"PEERMENTOR_OIDC_PROVIDERS: {provider_id!r} must be letters, digits and '-'"
            )
        prefix = f"PEERMENTOR_OIDC_{provider_id.upper().replace('-', '_')}_"
        apps.append(
            {
                "provider_id": provider_id.lower(),
                "name": env_str(prefix + "NAME")
                or _KNOWN_NAMES.get(provider_id.lower(), provider_id),
                "client_id": _required(prefix + "CLIENT_ID"),
                "secret": _required(prefix + "CLIENT_SECRET"),
                "settings": {
                    "server_url": _required(prefix + "ISSUER"),
                    "oauth_pkce_enabled": True,
                },
            }
        )
    return apps


def _metadata_xml() -> str:
    raw = env_str("PEERMENTOR_SAML_IDP_METADATA_XML").strip()
    if raw and not raw.startswith("<"):
        path = Path(raw)
        if not path.is_file():
            raise ImproperlyConfigured(
                f"PEERMENTOR_SAML_IDP_METADATA_XML: no file at {raw} (give the XML or a path)"
            )
        return path.read_text()
    return raw


def saml_apps() -> list[dict[str, Any]]:
    """The allauth `saml` app for PEERMENTOR_SAML_IDP_ENTITY_ID, or none."""
    entity_id = env_str("PEERMENTOR_SAML_IDP_ENTITY_ID").strip()
    if not entity_id:
        return []
    metadata_url = env_str("PEERMENTOR_SAML_IDP_METADATA_URL").strip()
    metadata_xml = _metadata_xml()
    idp: dict[str, Any] = {"entity_id": entity_id}
    if metadata_url:
        idp["metadata_url"] = metadata_url
    elif metadata_xml:
        # Imported here: the SAML toolkit (and its native xmlsec) loads only when SAML is on.
        from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

        parsed = OneLogin_Saml2_IdPMetadataParser.parse(metadata_xml, entity_id=entity_id)
        found = parsed.get("idp", {})
        if not found.get("singleSignOnService", {}).get("url"):
            raise ImproperlyConfigured(
                f"PEERMENTOR_SAML_IDP_METADATA_XML has no sign-on service for {entity_id}"
            )
        idp["sso_url"] = found["singleSignOnService"]["url"]
        idp["x509cert"] = found.get("x509cert") or found["x509certMulti"]["signing"][0]
    else:
        raise ImproperlyConfigured(
            "PEERMENTOR_SAML_IDP_ENTITY_ID needs PEERMENTOR_SAML_IDP_METADATA_URL "
            "or PEERMENTOR_SAML_IDP_METADATA_XML"
        )
    settings: dict[str, Any] = {
        "idp": idp,
        "attribute_mapping": {
            "uid": ["urn:oasis:names:tc:SAML:attribute:subject-id"],
            "email": [
                attribute
                for attribute in [
                    env_str("PEERMENTOR_SAML_EMAIL_ATTRIBUTE").strip(),
                    "urn:oid:0.9.2342.19200300.100.1.3",
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
                    "email",
                    "mail",
                ]
                if attribute
            ],
            "first_name": [
                "urn:oid:2.5.4.42",
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
            ],
            "last_name": [
                "urn:oid:2.5.4.4",
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
            ],
        },
        # The IdP must sign what it asserts; an unsigned assertion is refused. Host names
        # without a dot (an intranet's "peermentor", or "localhost") are valid URLs here.
        "advanced": {
            "want_assertion_signed": True,
            "strict": True,
            "allow_single_label_domains": True,
        },
    }
    sp_entity_id = env_str("PEERMENTOR_SAML_SP_ENTITY_ID").strip()
    if sp_entity_id:
        settings["sp"] = {"entity_id": sp_entity_id}
    return [
        {
            "provider_id": entity_id,
            "name": env_str("PEERMENTOR_SAML_NAME", "Single sign-on (SAML)"),
            "client_id": SAML_SLUG,
            "settings": settings,
        }
    ]


def identity_provider_origins(oidc: list[dict[str, Any]], saml: list[dict[str, Any]]) -> list[str]:
    """The origins the sign-in buttons' forms are redirected to (CSP form-action)."""
    urls = [app["settings"]["server_url"] for app in oidc]
    for app in saml:
        idp = app["settings"]["idp"]
        urls.append(idp.get("sso_url") or idp["metadata_url"])
    origins = []
    for url in urls:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in origins:
            origins.append(origin)
    return origins
