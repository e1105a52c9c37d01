"""What is due for Datadog, and how it is cut into payloads: the rules, without I/O."""

import gzip
import json
import random
from datetime import date

from dora4_pipeline.publish.plan import (
    MAX_COMPRESSED_BYTES,
    MAX_DECOMPRESSED_BYTES,
    Prior,
    current_points,
    due_points,
    payloads,
    series,
)

DAY = date(2026, 3, 16)
M = "dora4.deployments.daily"
A, B, C, D = (("dora4.ownership.pod:a",), ("dora4.ownership.pod:b",), ("pod:c",), ("pod:d",))


def test_only_new_changed_and_retracted_points_are_due():
    current = {(M, DAY, A): 2.0, (M, DAY, B): 0.0, (M, DAY, C): 5.0}
    prior = {
        (M, DAY, A): Prior(sent=2.0, recorded=2.0),  # unchanged
        (M, DAY, C): Prior(sent=4.0, recorded=4.0),  # changed
        (M, DAY, D): Prior(sent=3.0, recorded=3.0),  # group gone from the day
    }
    due = {(p.tags, p.value, p.change) for p in due_points(current, prior, dry_run=False)}
    assert due == {(B, 0.0, "new"), (C, 5.0, "changed"), (D, 0.0, "retracted")}


def test_failed_and_dry_run_points_are_still_due_when_sending_for_real():
    current = {(M, DAY, A): 1.0, (M, DAY, B): 1.0}
    prior = {(M, DAY, A): Prior(sent=None, recorded=1.0), (M, DAY, B): Prior(None, None)}
    assert [p.change for p in due_points(current, prior, dry_run=False)] == ["new", "new"]
    assert [p.tags for p in due_points(current, prior, dry_run=True)] == [B]


def test_medians_are_never_retracted_to_zero():
    prior = {(M, DAY, D): Prior(3.0, 3.0)}
    assert due_points({}, prior, dry_run=False, retract=False) == []


def test_resend_repeats_every_current_point_but_retracts_nothing_twice():
    current = {(M, DAY, A): 1.0}
    prior = {(M, DAY, A): Prior(1.0, 1.0), (M, DAY, D): Prior(0.0, 0.0)}
    due = due_points(current, prior, dry_run=False, resend=True)
    assert [(p.tags, p.value, p.change) for p in due] == [(A, 1.0, "resent")]


def test_groups_that_coincide_as_datadog_tags_are_summed():
    rows = [(M, DAY, ["ba:payments"], 2), (M, DAY, ["ba:payments"], 3), (M, DAY, ["ba:x"], 1)]
    assert current_points(rows) == ({(M, DAY, ("ba:payments",)): 5.0, (M, DAY, ("ba:x",)): 1.0}, 2)
    assert current_points(rows, additive=False) == ({(M, DAY, ("ba:x",)): 1.0}, 2)


def test_payloads_stay_under_the_intake_limits_and_keep_every_point():
    rng = random.Random(5)
    current = {
        (
            M,
            date(2026, 1, 1 + n % 28),
            (f"dora4.component.name:svc-{rng.getrandbits(64):x}-{n}",),
        ): 1.0
        for n in range(40_000)
    }
    all_series = series(due_points(current, {}, dry_run=False))
    batches = payloads(all_series)
    assert len(batches) > 1, "the case is big enough to need several payloads"
    for batch, compressed_bytes in batches:
        body = json.dumps({"series": batch}).encode()
        assert len(body) <= MAX_DECOMPRESSED_BYTES
        assert len(gzip.compress(body, compresslevel=6)) <= MAX_COMPRESSED_BYTES
        assert 0 < compressed_bytes <= MAX_COMPRESSED_BYTES
    sent = [(p["timestamp"], s["tags"][0]) for b in batches for s in b.series for p in s["points"]]
    assert len(sent) == len(set(sent)) == len(current)
