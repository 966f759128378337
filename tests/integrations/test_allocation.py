"""The inbound split rule, proved on examples and on generated inputs (hypothesis)."""

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecbridge.integrations.allocation import split_quantity

percentages = st.dictionaries(st.integers(1, 10_000), st.integers(0, 100), min_size=1, max_size=8)
received = st.integers(0, 1_000_000)


def exact_shares(qty, pcts):
    total = sum(pcts.values())
    denominator = 100 if total <= 100 else total
    return {k: Fraction(qty * p, denominator) for k, p in pcts.items()}


@pytest.mark.parametrize(
    "qty, pcts, expected",
    [
        (100, {"shopee": 60, "momo": 40}, {"shopee": 60, "momo": 40}),  # spec/01 scenario 2
        (10, {1: 33, 2: 33, 3: 34}, {1: 3, 2: 3, 3: 4}),  # the leftover unit to the largest remainder
        (7, {1: 50, 2: 50}, {1: 4, 2: 3}),  # tie: same percentage → smaller key (oldest account)
        (7, {1: 30, 2: 30}, {1: 2, 2: 2}),  # 60 % of 7 = 4.2 → pool 4, nothing more
        (100, {1: 100, 2: 100}, {1: 50, 2: 50}),  # 200 % scaled down: never more than received
        (5, {1: 80, 2: 70}, {1: 3, 2: 2}),  # scaled: 2.67 / 2.33 → 3 / 2
        (3, {1: 0, 2: 100}, {1: 0, 2: 3}),
        (0, {1: 60, 2: 40}, {1: 0, 2: 0}),
        (1, {1: 60, 2: 40}, {1: 1, 2: 0}),  # 0.6 / 0.4 → the single unit to the larger remainder
        (1, {1: 40, 2: 40}, {1: 0, 2: 0}),  # floor(0.8) = 0: nothing is pushed
    ],
)
def test_examples(qty, pcts, expected):
    assert split_quantity(qty, pcts) == expected


@given(received, percentages)
def test_total_never_exceeds_received_nor_the_percentage_pool(qty, pcts):
    shares = split_quantity(qty, pcts)
    total_pct = sum(pcts.values())
    assert sum(shares.values()) <= qty
    if total_pct <= 100:
        assert sum(shares.values()) == qty * total_pct // 100
    else:
        assert sum(shares.values()) == qty  # scaled down: everything received, no more


@given(received, percentages)
def test_each_share_is_its_exact_share_rounded_down_or_up(qty, pcts):
    shares = split_quantity(qty, pcts)
    for key, exact in exact_shares(qty, pcts).items():
        assert math.floor(exact) <= shares[key] <= math.ceil(exact)
        assert shares[key] >= 0


@given(received, percentages)
def test_leftover_units_go_to_the_largest_remainders(qty, pcts):
    shares = split_quantity(qty, pcts)
    exact = exact_shares(qty, pcts)
    got_extra = [k for k in pcts if shares[k] > math.floor(exact[k])]
    left_out = [k for k in pcts if shares[k] == math.floor(exact[k]) and exact[k] % 1]
    for winner in got_extra:
        for loser in left_out:
            assert exact[winner] % 1 >= exact[loser] % 1


@given(received, percentages)
def test_deterministic_whatever_the_order_of_accounts(qty, pcts):
    reversed_pcts = dict(reversed(list(pcts.items())))
    assert split_quantity(qty, pcts) == split_quantity(qty, reversed_pcts)


@given(st.integers(0, 10_000), st.integers(0, 100))
def test_single_account_gets_floor_of_its_percentage(qty, pct):
    assert split_quantity(qty, {1: pct}) == {1: qty * pct // 100}


@pytest.mark.parametrize("qty, pcts", [(-1, {1: 50}), (10, {1: 101}), (10, {1: -1})])
def test_bad_input_is_refused(qty, pcts):
    with pytest.raises(ValueError):
        split_quantity(qty, pcts)
