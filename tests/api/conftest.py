import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


class Api:
    """A test client signed in as one user, speaking JSON."""

    def __init__(self, client, user=None):
        self.client = client
        if user is not None:
            client.force_login(user)

    def get(self, url, **params):
        return self.client.get(url, params)

    def post(self, url, data=None):
        import json

        body = json.dumps(data) if data is not None else ""
        return self.client.post(url, body, content_type="application/json")

    def upload(self, url, name, content):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return self.client.post(url, {"file": SimpleUploadedFile(name, content)})

    def queries(self, url, **params):
        """How many queries one GET of `url` runs (after a first GET warms the session)."""
        self.get(url, **params)
        with CaptureQueriesContext(connection) as captured:
            response = self.get(url, **params)
        assert response.status_code == 200, response.content[:500]
        return len(captured)


@pytest.fixture
def api_as(client):
    def sign_in(user=None):
        return Api(client, user)

    return sign_in


def assert_error(response, status, field="any"):
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) >= {"message", "field"} and body["message"], body
    if field != "any":
        assert body["field"] == field, body
    return body
