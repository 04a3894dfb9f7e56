from typing import Any


def home_context(*, user: Any) -> dict[str, Any]:
    return {"template": "core/home.html"}
