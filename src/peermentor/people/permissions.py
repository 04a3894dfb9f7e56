"""Who may do what with the directory. Pure predicates: no queries beyond the user itself."""

from typing import Any


def is_org_admin(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_org_admin
    )


def can_browse_directory(user: Any) -> bool:
    """The whole directory is HR data: organisation admins only, not program managers."""
    return is_org_admin(user)


def can_import_people(user: Any) -> bool:
    return is_org_admin(user)
