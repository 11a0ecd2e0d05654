"""gan_lib.machinery.step_costs: interleaved timings, the median of per-round ratios, and when the check fails."""
import pytest
import torch

from gan_lib.machinery import BUDGETS, recipes, step_costs


def test_seconds_per_step_times_every_recipe_every_round():
    images = torch.rand(256, 1, 28, 28) * 2 - 1
    times = step_costs.seconds_per_step([recipes.PLAIN, recipes.BOOK], images, [2, 2], rounds=3)
    assert [len(t) for t in times] == [3, 3] and all(x > 0 for t in times for x in t)


def test_median_ratio_ignores_one_busy_round():
    assert step_costs.median_ratio([2.0, 2.0, 50.0], [1.0, 1.0, 1.0]) == 2.0


def test_the_check_prints_a_difference_and_fails_only_on_a_cheaper_step_on_a_cpu_outside_smoke(capsys):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert step_costs.check_cost_ratio("x", 1.1, 1.0, BUDGETS["cpu"], cpu)
    assert not step_costs.check_cost_ratio("x", 2.6, 4.7, BUDGETS["cpu"], cpu)  # another machine: printed, not failed
    out = capsys.readouterr().out
    assert "NOTE" in out and "its runs take 55% of the plain runs' seconds" in out
    with pytest.raises(AssertionError, match="cheaper than a plain one"):
        step_costs.check_cost_ratio("x", 0.9, 1.6, BUDGETS["cpu"], cpu)
    assert not step_costs.check_cost_ratio("x", 0.5, 1.0, BUDGETS["smoke"], cpu)
    assert not step_costs.check_cost_ratio("x", 0.5, 1.0, BUDGETS["gpu"], cuda)
