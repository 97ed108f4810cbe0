"""Error rates of a threshold (audiosearch/runtime/error_rates.py): the numbers calibration stores and eval prints."""

import pytest

from audiosearch.runtime.error_rates import Trials


def test_rates_at_a_threshold_count_scores_at_or_above_it_as_matches():
    trials = Trials(positives=[0.9, 0.8, 0.4], negatives=[0.1, 0.2, 0.5, 0.85])
    rates = trials.at(0.8)
    assert (rates.false_positive_rate, rates.false_negative_rate) == (0.25, pytest.approx(1 / 3))


def test_threshold_at_a_target_false_positive_rate_is_the_lowest_that_meets_it():
    negatives = [n / 100 for n in range(100)]  # 0.00 .. 0.99
    trials = Trials(positives=[0.5, 0.985, 0.995], negatives=negatives)
    rates = trials.at_false_positive_rate(0.01)
    assert rates.false_positive_rate == 0.01 and 0.98 < rates.threshold <= 0.985  # only 0.99 passes
    assert rates.false_negative_rate == pytest.approx(1 / 3)
    assert trials.at_false_positive_rate(0.001).false_positive_rate == 0.0


def test_equal_error_rate_and_min_dcf():
    separable = Trials(positives=[0.8, 0.9], negatives=[0.1, 0.2, 0.3])
    assert separable.equal_error().false_positive_rate == 0.0 and separable.min_dcf(0.01) == 0.0
    overlapping = Trials(positives=[0.2, 0.6, 0.7, 0.9], negatives=[0.1, 0.3, 0.4, 0.65])
    equal = overlapping.equal_error()
    assert equal.false_positive_rate == pytest.approx(0.25) and equal.threshold == pytest.approx(0.6)
    assert 0 < overlapping.min_dcf(0.01) <= 1.0
    assert Trials([], [0.1]).equal_error().false_positive_rate == 0.0  # no positives: nothing measured
