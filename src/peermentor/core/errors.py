"""The one error contract: services raise ApplicationError; forms and the API show it."""


class ApplicationError(Exception):
    """A request the user can fix: the message is shown to them, beside `field` if given."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
