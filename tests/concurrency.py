"""Real concurrency for the PostgreSQL-only race tests: calls released at the same moment."""

import threading
from collections.abc import Callable, Sequence


def race(calls: Sequence[Callable[[], object]], *, timeout: float = 60) -> list[object]:
    """Run each call in its own thread and database connection, released at the same moment.
    Returns each call's result, or the exception it raised (what the test inspects)."""
    from django.db import connections

    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as error:  # the outcome is what the test inspects
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcomes
