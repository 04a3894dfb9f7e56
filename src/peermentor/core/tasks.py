"""Enqueuing background work so the worker finds the rows it is given."""

from typing import Any

from django.db import transaction


def enqueue_on_commit(task: Any, **kwargs: Any) -> None:
    """Enqueue `task` with `kwargs` once the current transaction commits (at once outside
    one): a task enqueued inside the transaction could run before its rows are visible, or
    for a change that was rolled back."""
    transaction.on_commit(lambda: task.enqueue(**kwargs))
