"""Running an app's queued jobs in the test's thread, the way huey's worker runs them."""

from __future__ import annotations

from flask import Flask


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
