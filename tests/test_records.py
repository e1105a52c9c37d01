"""The record-by-record reader: every good record survives damage around it."""

import gzip
import json
from datetime import UTC, datetime

from dora4_generator.events import ecs_deployment_state_change, ecs_service_arn
from dora4_pipeline.events.records import Damage, Record, decompress, iter_records, read_object

ACCOUNT, REGION = "444455556666", "eu-west-1"


def _sample_texts(count: int = 6) -> list[str]:
    """Realistic events with distinct ids, serialized as Firehose writes them."""
    arn = ecs_service_arn(service="ledger-api", account=ACCOUNT, region=REGION, cluster="pay")
    return [
        json.dumps(
            ecs_deployment_state_change(
                envelope_id=f"env-{n}",
                envelope_time=datetime(2026, 3, 17, 14, n % 60, tzinfo=UTC),
                service_arn=arn,
                event_name="SERVICE_DEPLOYMENT_IN_PROGRESS",
                deployment_id=f"ecs-svc/{n}",
                updated_at=datetime(2026, 3, 17, 14, n % 60, tzinfo=UTC),
                account=ACCOUNT,
                region=REGION,
            )
        )
        for n in range(count)
    ]


def test_concatenated_and_newline_delimited_records_are_read_in_order():
    texts = _sample_texts()
    stream = "".join(texts[:3]) + "\n" + "\n".join(texts[3:]) + "\n"
    items = list(iter_records(stream))
    assert all(isinstance(item, Record) for item in items)
    assert [item.event["id"] for item in items] == [json.loads(t)["id"] for t in texts]
    assert [item.index for item in items] == list(range(len(texts)))


def test_a_malformed_record_is_one_dead_letter_and_its_neighbours_survive():
    first, second, third, fourth = _sample_texts()[:4]
    stream = first + second[:150] + third + '{"hello": "world"}' + fourth
    items = list(iter_records(stream))
    kinds = [type(item).__name__ for item in items]
    assert kinds == ["Record", "Damage", "Record", "Damage", "Record"]
    malformed, not_event = items[1], items[3]
    assert malformed.reason.startswith("malformed JSON record")
    assert malformed.position == len(first)
    assert malformed.excerpt == second[:150]
    assert "not an EventBridge event" in not_event.reason
    assert [i.event["id"] for i in items if isinstance(i, Record)] == [
        json.loads(t)["id"] for t in (first, third, fourth)
    ]


def test_a_truncated_gzip_keeps_its_readable_prefix_and_says_so():
    texts = _sample_texts(count=60)
    data = gzip.compress("".join(texts).encode())
    text, damage = decompress(data[: len(data) * 2 // 3])
    assert isinstance(damage, Damage) and damage.reason.startswith("truncated gzip")
    records = [i for i in iter_records(text.decode()) if isinstance(i, Record)]
    assert 0 < len(records) < len(texts)
    assert [r.event for r in records] == [json.loads(t) for t in texts[: len(records)]]


def test_an_intact_multi_member_gzip_is_not_damage():
    texts = _sample_texts()
    data = gzip.compress(texts[0].encode()) + gzip.compress(texts[1].encode())
    text, damage = decompress(data)
    assert damage is None
    assert text.decode() == texts[0] + texts[1]


def test_a_gzip_cut_through_a_record_is_one_dead_letter_at_that_record():
    texts = _sample_texts(count=60)
    data = gzip.compress("".join(texts).encode())
    items = list(read_object(data[: len(data) * 2 // 3]))
    damages = [i for i in items if isinstance(i, Damage)]
    records = [i for i in items if isinstance(i, Record)]
    assert len(damages) == 1 and damages[-1] is items[-1]
    assert damages[0].reason.startswith("truncated gzip")
    assert damages[0].index == len(records)
    assert damages[0].position == sum(len(t) for t in texts[: len(records)])
