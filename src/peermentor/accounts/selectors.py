from peermentor.accounts.models import SignInPolicy


def sign_in_policy() -> SignInPolicy:
    """The organisation's sign-in policy; the defaults (unsaved) until an admin saves one."""
    return SignInPolicy.objects.filter(pk=1).first() or SignInPolicy(pk=1)
