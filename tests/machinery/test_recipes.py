"""gan_lib.machinery.recipes: the named recipes and the runs the chapters share (their seeds and equal costs)."""
from gan_lib.machinery.budgets import BUDGETS
from gan_lib.machinery.recipes import (BOOK, BOOK_COST_RATIO, CONDITIONAL_SUBSET, CONFIRM_SEEDS, DCGAN,
                                       DCGAN_COST_RATIO, PLAIN, book_runs, chapter4_runs, chapter5_runs,
                                       chapter8_runs, equal_cost_steps)


def test_equal_cost_steps_rounds_and_never_gives_zero():
    assert equal_cost_steps(2500, 1.3) == 1923 and equal_cost_steps(1, 10.0) == 1


def test_chapter5_runs_have_equal_cost():
    for b in BUDGETS.values():
        runs = {r.name: r for r in chapter5_runs(b)}
        tuned = {r.name: r for r in chapter4_runs(b)}["book-seed0"]  # the MLP side of the comparison
        assert tuned.num_steps == equal_cost_steps(b.gan_steps, BOOK_COST_RATIO)
        steps = equal_cost_steps(tuned.num_steps, DCGAN_COST_RATIO)
        assert {runs[f"dcgan-seed{s}"].num_steps for s in (0, 1)} == {steps}
        assert runs["dcgan-seed0"].recipe == DCGAN and DCGAN.model == "dcgan"
        assert runs["book-equal-steps-seed0"].num_steps == steps and runs["book-equal-steps-seed0"].recipe.model == "mlp"


def test_chapter8_runs():
    runs = chapter8_runs(BUDGETS["cpu"])
    subset = [r for r in runs if r.recipe == CONDITIONAL_SUBSET]
    assert len(subset) == 5 and len({r.seed for r in subset}) == 5
    assert all(r.recipe.num_classes == 10 for r in runs)


def test_book_runs_have_unique_names_and_valid_step_counts():
    for b in BUDGETS.values():
        runs = book_runs(b)
        assert len({r.name for r in runs}) == len(runs), "two runs share a name"
        assert all(r.num_steps >= 1 for r in runs)


def test_chapter4_compares_plain_and_book_on_the_confirmation_seeds_at_equal_cost():
    for b in BUDGETS.values():
        runs = chapter4_runs(b)
        assert {r.seed for r in runs if r.recipe == PLAIN} == {r.seed for r in runs if r.recipe == BOOK} == set(CONFIRM_SEEDS)
        plain_steps = {r.num_steps for r in runs if r.recipe == PLAIN}
        book_steps = {r.num_steps for r in runs if r.recipe == BOOK}
        assert plain_steps == {b.gan_steps} and book_steps == {max(1, round(b.gan_steps / BOOK_COST_RATIO))}


def test_the_search_seeds_are_not_the_confirmation_seeds():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "recipe_search.py"
    spec = importlib.util.spec_from_file_location("recipe_search", path)
    search = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(search)
    assert not set(search.SEARCH_SEEDS) & set(CONFIRM_SEEDS)
    assert search.CANDIDATES["plain"] == PLAIN
