"""The one error contract: services raise ApplicationError; forms and the API show it."""

from typing import Any

from django.core.exceptions import ValidationError


class ApplicationError(Exception):
    """A request the user can fix: the message is shown to them, beside `field` if given."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


def application_error(error: ValidationError, *, field: str | None = None) -> ApplicationError:
    """Django's ValidationError as the one error users see: the first field's first error,
    beside that field (none for errors of the whole object, "__all__"); an error without
    fields keeps all its messages and goes beside `field`."""
    if hasattr(error, "error_dict"):
        name, errors = next(iter(error.error_dict.items()))
        return ApplicationError(
            " ".join(errors[0].messages), field=None if name == "__all__" else name
        )
    return ApplicationError(" ".join(error.messages), field=field)


def full_clean(instance: Any, **options: Any) -> None:
    """`instance.full_clean(**options)`, its first error raised as an ApplicationError."""
    try:
        instance.full_clean(**options)
    except ValidationError as error:
        raise application_error(error) from error
