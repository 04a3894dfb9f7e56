"""Every page of a cross-app use case is listed in the permission test of the app whose address
it has (tests/urlnames.py adds flows pages to each app's list), so none escapes those tests."""

from peermentor.flows import urls as flows_urls

# The addresses whose app permission tests include flows pages (tests/urlnames.py's callers;
# matches lists publishing in tests/matches/test_views.py), and the home page, which
# tests/programs/test_views.py opens as every role; withdrawing is in
# tests/enrollment/test_permissions.py's table.
COVERED_PREFIXES = ("programs/", "connections/", "matches/", "participations/")
# The data-protection pages (under the person's Preferences, the directory entry and /privacy/)
# have their own matrix of every page and role: tests/flows/test_privacy_views.py.
PRIVACY_PREFIXES = ("accounts/preferences/data", "people/", "privacy/")


def test_every_flows_page_sits_under_an_app_whose_permission_test_lists_it():
    for pattern in flows_urls.urlpatterns:
        route = str(pattern.pattern)
        assert route == "" or route.startswith(COVERED_PREFIXES + PRIVACY_PREFIXES), route
