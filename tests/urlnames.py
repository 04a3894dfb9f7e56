"""The page names of one app, wherever its pages are routed: the app's own urlconf and the pages
of cross-app use cases (flows/urls.py) served under the app's address."""

from types import ModuleType

from peermentor.flows import urls as flows_urls


def app_url_names(app_urls: ModuleType, prefix: str) -> set[str]:
    names = {pattern.name for pattern in app_urls.urlpatterns}
    return names | flows_url_names(prefix)


def flows_url_names(prefix: str) -> set[str]:
    return {
        pattern.name
        for pattern in flows_urls.urlpatterns
        if str(pattern.pattern).startswith(prefix) and pattern.name
    }
