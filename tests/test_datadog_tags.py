"""Datadog's tag rules on the values our groups carry."""

from dora4_pipeline.publish.tags import MAX_TAG_CHARS, TAG_KEYS, group_tags, tag


def test_values_are_lowercased_and_disallowed_characters_become_underscores():
    assert tag("dora4.git.repository", "Commerce/Cart-API v2") == (
        "dora4.git.repository:commerce/cart-api_v2"
    )
    assert tag("dora4.ownership.team", "Zahlungsverkehr & Betrug") == (
        "dora4.ownership.team:zahlungsverkehr___betrug"
    )
    assert tag("dora4.environment", "") == "dora4.environment:unassigned"


def test_a_tag_never_exceeds_200_characters_and_keeps_its_key():
    long = tag("dora4.component.name", "x" * 500)
    assert len(long) == MAX_TAG_CHARS
    assert long.startswith("dora4.component.name:xxx")


def test_a_group_carries_every_contract_tag_in_order():
    row = {column: "unassigned" for column in TAG_KEYS} | {"ownership_ba": "Payments"}
    tags = group_tags(row)
    assert [t.split(":", 1)[0] for t in tags] == list(TAG_KEYS.values())
    assert tags[0] == "dora4.ownership.ba:payments"
