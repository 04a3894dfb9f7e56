"""The client's network address, as far as this deployment can trust it."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The address of the client that sent `request`.

    Behind `PEERMENTOR_TRUSTED_PROXY_COUNT` reverse proxies, each appends the address it was
    reached from to `X-Forwarded-For`, so the client is the entry that many places from the
    right; anything further left was written by the client and could be forged. With no
    trusted proxy (the default) the header is ignored: any client could set it.
    """
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxy_count = int(getattr(settings, "PEERMENTOR_TRUSTED_PROXY_COUNT", 0))
    if proxy_count <= 0:
        return remote
    forwarded = [
        entry.strip()
        for entry in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if entry.strip()
    ]
    if len(forwarded) < proxy_count:
        return remote
    candidate = forwarded[-proxy_count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
