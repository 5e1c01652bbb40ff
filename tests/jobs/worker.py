"""Running an app's queued jobs in the test's thread, the way huey's worker runs them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from huey.consumer import Consumer


class ThreadedConsumer(Consumer):
    """huey's consumer with its worker and scheduler threads, started from a test."""

    def _set_signal_handlers(self) -> None:
        pass  # it runs beside pytest, whose main thread keeps its own signal handlers


@contextmanager
def consuming(app: Flask) -> Iterator[ThreadedConsumer]:
    """The app's queue worked by a consumer in this process while the block runs (as `make run`'s worker)."""
    consumer = ThreadedConsumer(app.extensions["zoufang_jobs"].huey, workers=1, periodic=False, max_delay=0.5,
                                check_worker_health=False)
    consumer.start()
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)


def work_off(app: Flask, *, limit: int = 20) -> int:
    """Take tasks from the app's queue and execute them until it is empty; how many ran.

    Retries that huey schedules for later stay in its schedule, not in the queue.
    """
    huey = app.extensions["zoufang_jobs"].huey
    ran = 0
    while ran < limit:
        task = huey.dequeue()
        if task is None:
            return ran
        huey.execute(task)
        ran += 1
    raise AssertionError(f"still tasks in the queue after {limit}")
