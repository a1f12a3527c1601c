"""``--good`` / ``--bad`` region syntax: ``START-END`` in seconds."""

from __future__ import annotations

import pytest

from instrument_agent.regions import FeedbackRegionError, Region, parse_region, parse_regions


@pytest.mark.parametrize(
    ("text", "start", "end"), [("1-2.5", 1.0, 2.5), (" 0 - 3 ", 0.0, 3.0), ("1.-2", 1.0, 2.0), ("0.25-0.5", 0.25, 0.5)]
)
def test_spans_parse(text, start, end):
    assert parse_region(text, "good") == Region(start, end, "good")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2-1", "the end must come after the start"),
        ("1-1", "the end must come after the start"),
        ("-1-2", "expected START-END in seconds"),
        ("1e0-2", "expected START-END in seconds"),
        ("1,5-2", "expected START-END in seconds"),
        (".5-1", "expected START-END in seconds"),
        ("1-", "expected START-END in seconds"),
    ],
)
def test_malformed_spans_name_the_flag_and_the_text(text, message):
    with pytest.raises(FeedbackRegionError, match=f"--bad '{text}': {message}"):
        parse_region(text, "bad")


def test_regions_keep_the_goods_then_the_bads_in_order():
    assert parse_regions(["3-4", "0-1"], ["1-2"]) == [
        Region(3.0, 4.0, "good"),
        Region(0.0, 1.0, "good"),
        Region(1.0, 2.0, "bad"),
    ]
    assert Region(0.0, 1.0, "bad").to_dict() == {"start": 0.0, "end": 1.0, "label": "bad"}
    with pytest.raises(FeedbackRegionError, match="expected 'good' or 'bad'"):
        parse_region("0-1", "meh")
