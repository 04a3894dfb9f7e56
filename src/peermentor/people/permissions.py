"""Who may do what with the directory. Pure predicates: no queries beyond the user itself."""

from peermentor.accounts.models import User


def is_org_admin(user: User) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_org_admin
    )


def can_browse_directory(user: User) -> bool:
    """The whole directory is HR data: organisation admins only, not program managers."""
    return is_org_admin(user)


def can_import_people(user: User) -> bool:
    return is_org_admin(user)
