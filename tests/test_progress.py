"""The progress meter: rate and time left computed once, for every listener."""

from __future__ import annotations

import time

from kiosk.progress import Meter, Phase


def test_what_an_earlier_run_did_counts_as_done_but_not_in_the_rate():
    meter = Meter(Phase.SEND, 10, 1000, study_id=7, done_before=4, bytes_before=400)
    time.sleep(0.05)
    meter.advance(2, 200)
    event = meter.event()
    assert (event.done, event.total, event.bytes_done, event.bytes_total) == (6, 10, 600, 1000)
    elapsed = time.monotonic() - meter.started
    # Only this run's 2 items and 200 bytes make the rate, not the 4 done before.
    assert 2 / (elapsed + 0.05) < event.rate <= 2 / 0.05
    assert 200 / (elapsed + 0.05) < event.bytes_per_second <= 200 / 0.05
    # The time left goes by bytes when sizes are known: 400 bytes at this run's speed.
    assert event.seconds_left is not None
    assert abs(event.seconds_left - 400 / event.bytes_per_second) < 1e-6
    assert (event.study_id, event.phase, event.finished) == (7, Phase.SEND, False)


def test_time_left_by_items_without_sizes_unknown_before_anything_moves():
    meter = Meter(Phase.COPY, 4)
    assert meter.event().seconds_left is None
    time.sleep(0.02)
    meter.advance(1)
    event = meter.event()
    assert event.seconds_left is not None
    assert abs(event.seconds_left - 3 / event.rate) < 1e-6
    meter.advance(3)
    assert meter.event().seconds_left == 0.0 and meter.event().finished
