"""What several test modules share."""

import time

import pytest


def wait_for(condition, timeout=60, what="condition"):
    """Polls `condition` until it returns something true (its result); fails at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)
