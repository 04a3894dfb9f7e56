from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {"is_org_admin": bool(user and user.is_authenticated and user.is_org_admin)}
