"""gan_lib.machinery.budgets: the one place that decides how long the book trains."""
import pytest

from gan_lib.machinery import budgets


def test_budget_defaults_by_device(monkeypatch):
    monkeypatch.delenv(budgets.ENV_VAR, raising=False)
    assert budgets.budget("cpu").name == "cpu"
    assert budgets.budget("cuda").name == "gpu"
    assert budgets.BUDGETS["gpu"].gan_steps > budgets.BUDGETS["cpu"].gan_steps > budgets.BUDGETS["smoke"].gan_steps


def test_budget_env_var_forces_and_validates(monkeypatch):
    monkeypatch.setenv(budgets.ENV_VAR, "smoke")
    assert budgets.budget("cuda").name == "smoke"
    monkeypatch.setenv(budgets.ENV_VAR, "huge")
    with pytest.raises(ValueError, match="not a budget"):
        budgets.budget()


def test_every_budget_is_positive_and_larger_budgets_train_longer():
    order = ["smoke", "cpu", "gpu", "full"]
    for name in order:
        b = budgets.BUDGETS[name]
        assert b.name == name and all(v > 0 for k, v in b.as_dict().items() if k != "name")
    steps = [budgets.BUDGETS[n].gan_steps for n in order]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
