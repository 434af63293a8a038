"""Move the wall clock of every Python process of a test run far ahead.

CI runs the date-sensitive suites twice: once today, once with this folder on
``PYTHONPATH`` and ``CLOCK_SHIFT_DAYS`` set (not a ``ZBOOKS_`` name: tests strip those
from the environments they give subprocesses, and the shift must reach them). Python
imports ``sitecustomize`` at start-up, so the shift reaches pytest, the in-process
sandbox, and every Python subprocess the tests start (``zbooks`` commands, sandbox
servers, workers): the whole process tree agrees on the shifted date.

Why not libfaketime (Debian's ``faketime``, 0.9.10): it hangs Python 3.11's timed lock
waits (``sem_clockwait`` on a faked monotonic clock is not intercepted), and with
``FAKETIME_DONT_FAKE_MONOTONIC=1`` every ``time.sleep`` fails with EINVAL. time-machine
moves exactly what code reads to decide a date (``time.time``, ``time.gmtime``,
``datetime.now``, ``date.today``, ...) and leaves the monotonic clock, which timeouts
use, alone.
"""

from __future__ import annotations

import os

_days = os.environ.get("CLOCK_SHIFT_DAYS")
if _days:
    import time
    from datetime import UTC, datetime, timedelta

    import time_machine

    _traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=float(_days)), tick=True)
    _traveller.start()
    # time-machine starts its ticking clock at the first reading: take it now, so that
    # every process is shifted by the same amount (to a millisecond), not by however
    # long its imports took before it first asked for the time.
    time.time()
