"""The filter expression builder: values stay values, whatever characters they hold."""

import math

import pytest

from audiosearch.runtime import domain
from audiosearch.sdk import errors
from search_service.filters import expression, string_literal


def test_no_filter_matches_everything():
    assert expression(domain.SearchFilter()) == ""


def test_every_set_field_is_a_clause():
    search_filter = domain.SearchFilter(
        speakers=("ann", "bob"),
        sound_classes=("dog",),
        tags_any=("loud",),
        min_duration_seconds=1.5,
        max_duration_seconds=10.0,
    )
    assert expression(search_filter, exclude_clip_ids=[7, 9]) == (
        '(speaker in ["ann", "bob"]) and (sound_class in ["dog"]) and (array_contains_any(tags, ["loud"])) '
        "and (duration_s >= 1.5) and (duration_s <= 10.0) and (clip_id not in [7, 9])"
    )


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ('a" or id != "', r'"a\" or id != \""'),
        ("x' OR 1==1", '"x\' OR 1==1"'),
        ("back\\slash", r'"back\\slash"'),
        ("é 中", '"é 中"'),
    ],
)
def test_strings_are_escaped_literals(value, literal):
    assert string_literal(value) == literal


@pytest.mark.parametrize("value", ["a\x00b", "two\nlines", "tab\there", "del\x7f"])
def test_control_characters_are_refused(value):
    # The same rule refuses them in labels, so a stored label can always be filtered on.
    with pytest.raises(errors.InvalidArgument, match="control character"):
        expression(domain.SearchFilter(speakers=(value,)))


@pytest.mark.parametrize("low, high", [(-1.0, 0.0), (math.nan, 0.0), (0.0, math.inf), (5.0, 2.0)])
def test_impossible_durations_are_refused(low, high):
    with pytest.raises(errors.InvalidArgument):
        expression(domain.SearchFilter(min_duration_seconds=low, max_duration_seconds=high))
