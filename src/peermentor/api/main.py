"""The REST API at /api/v1: one NinjaAPI, each app's router, one error contract."""

from typing import Any

from csp.decorators import csp_exempt
from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Schema, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from peermentor.accounts.http import AuthenticatedHttpRequest
from peermentor.api.services import api_token_authenticate
from peermentor.connections import api as connections_api
from peermentor.core.errors import ApplicationError
from peermentor.enrollment import api as enrollment_api
from peermentor.flows import api as flows_api
from peermentor.matches import api as matches_api
from peermentor.people import api as people_api
from peermentor.programs import api as programs_api


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """A signed-in browser session. Without one, the request is simply not authenticated (401),
    whatever its body: ninja's own session auth checks CSRF first, so an anonymous or
    bad-token write got 403 "CSRF check Failed", and a malformed body was read before anyone
    was known. A signed-in session must pass the CSRF check: a page elsewhere could send it."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header.")
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return self(request)


class ObjectBodyParser(Parser):
    """Request bodies are JSON objects. Without this check ninja reads `[]`, `null` or `42` as
    an empty object, and an endpoint whose fields are all optional would act on it."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("The request body is not a JSON object.")
        return data


class PeermentorAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """Every body an endpoint takes is required in the schema: the server refuses `null`
        and a body that is not an object (ObjectBodyParser), whatever the fields' defaults."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    body = operation["requestBody"]
                    body["required"] = True
                    for media in body.get("content", {}).values():
                        media["schema"] = _not_null(media.get("schema", {}))
        return schema


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional body (`payload: X | None = None`) is published as X: `null` is refused."""
    choices = [choice for choice in schema.get("anyOf", []) if choice != {"type": "null"}]
    if "anyOf" in schema and len(choices) == 1:
        return {key: value for key, value in schema.items() if key != "anyOf"} | choices[0]
    return schema


api = PeermentorAPI(
    title="Peermentor API",
    version="1",
    description=(
        "Read and run peer mentoring programs. Authenticate with `Authorization: Bearer <token>` "
        "(create tokens under Preferences → API tokens) or a signed-in session. Errors are "
        '`{"message": str, "field": str | null}` with a 4xx status.'
    ),
    urls_namespace="api-v1",
    parser=ObjectBodyParser(),
    auth=[TokenAuth(), SessionAuth()],
    # Swagger's page runs an inline script; the rest of the site keeps the strict policy.
    docs_decorator=csp_exempt(),
    # Swagger UI's deep links are <a href> inside each operation's toggle <button>: a link nested
    # in a button that keyboard and screen reader users cannot reach as either (axe
    # nested-interactive). Without them the toggle is a plain button. The page's template and
    # stylesheet are ours too: templates/ninja/swagger.html.
    docs=Swagger(settings={"deepLinking": False}),
)


BODY_NOT_AN_OBJECT = "The request body must be a JSON object."


class ErrorOut(Schema):
    message: str
    field: str | None = None


def _error(request: HttpRequest, message: str, status: int, field: str | None = None) -> Any:
    return api.create_response(request, {"message": message, "field": field}, status=status)


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    return _error(request, error.message, error.status, error.field)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    if hasattr(error, "error_dict"):
        field, messages = next(iter(error.message_dict.items()))
        return _error(request, " ".join(messages), 400, None if field == "__all__" else field)
    return _error(request, " ".join(error.messages), 400)


# django-ninja answers bad input itself with {"detail": ...}; these keep its answers to the one
# contract too, so a client handles every 4xx the same way.
@api.exception_handler(SchemaValidationError)
def schema_validation_error(request: HttpRequest, error: SchemaValidationError) -> HttpResponse:
    detail = error.errors[0] if error.errors else {}
    source, field = _schema_field(detail)
    if source == "body" and field is None:
        message = BODY_NOT_AN_OBJECT
    elif detail.get("type") == "missing":
        message = "This field is required."
    else:
        message = str(detail.get("msg") or "This value is not valid.").removeprefix("Value error, ")
    return _error(request, message, 400, field)


def _schema_field(detail: dict[str, Any]) -> tuple[str, str | None]:
    """Where the bad value was, and the input's own field name:
    ("body", "payload", "goals", 0) → ("body", "goals"); ("query", "page") → ("query", "page").
    """
    location = [str(part) for part in detail.get("loc", ()) if not isinstance(part, int)]
    source = location.pop(0) if location else ""
    # A body, or a query schema, is one parameter whose name clients never send: drop it.
    if source == "body" or (source == "query" and len(location) > 1):
        location = location[1:]
    return source, ".".join(location) or None


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return _error(
        request, "Sign in, or send a valid token as `Authorization: Bearer <token>`.", 401
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    message = error.message
    if message.startswith("Cannot parse request body"):
        message = BODY_NOT_AN_OBJECT
    return _error(request, message, error.status_code)


# A body Django cannot read (multipart without a boundary, a broken upload, too many fields,
# too large) is the client's mistake: the one error body, not Django's HTML 400 or a 500.
@api.exception_handler(MultiPartParserError)
def unreadable_multipart(request: HttpRequest, error: MultiPartParserError) -> HttpResponse:
    return _error(request, "The request body is not valid multipart/form-data.", 400)


@api.exception_handler(UnreadablePostError)
def unreadable_body(request: HttpRequest, error: UnreadablePostError) -> HttpResponse:
    return _error(request, "The request body could not be read.", 400)


@api.exception_handler(SuspiciousOperation)
def suspicious_request(request: HttpRequest, error: SuspiciousOperation) -> HttpResponse:
    if isinstance(error, RequestDataTooBig):
        return _error(request, "The request body is too large.", 413)
    return _error(request, "The request could not be read.", 400)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    return _error(request, str(error) or "You may not do that.", 403)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return _error(request, "Not found.", 404)


class MeOut(Schema):
    email: str
    full_name: str
    time_zone: str
    is_org_admin: bool


@api.get("/me", response=MeOut, tags=["accounts"], summary="Who the token belongs to")
def me(request: AuthenticatedHttpRequest) -> Any:
    return request.user


# Each app that has an API keeps it in its own `api.py` with a `router`; the cross-app use cases
# (flows) mount theirs under the path and tag of the app whose objects they act on.
api.add_router("/people", people_api.router, tags=["people"])
api.add_router("/programs", programs_api.router, tags=["programs"])
api.add_router("/programs", flows_api.programs, tags=["programs"])
api.add_router("/enrollment", enrollment_api.router, tags=["enrollment"])
api.add_router("/enrollment", flows_api.enrollment, tags=["enrollment"])
api.add_router("/matches", matches_api.router, tags=["matches"])
api.add_router("/matches", flows_api.matches, tags=["matches"])
api.add_router("/connections", connections_api.router, tags=["connections"])
api.add_router("/connections", flows_api.connections, tags=["connections"])
