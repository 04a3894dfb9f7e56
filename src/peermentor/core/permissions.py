"""The one way a service or selector refuses: PermissionDenied (403, or the API's 403 JSON)."""

from django.core.exceptions import PermissionDenied


def require(condition: bool, message: str = "") -> None:
    """Refuse with `message` unless `condition` holds."""
    if not condition:
        raise PermissionDenied(message)
