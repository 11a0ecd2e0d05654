"""gan_lib.machinery.exercises: CONTRIBUTING.md's exercise convention, read from a notebook's tags, on the fixture
chapter and on every chapter of the book."""
import json
from pathlib import Path

import pytest

from gan_lib.machinery import exercises
from gan_lib.machinery.toc import chapter_notebooks

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "exercises_chapter.ipynb"
CHAPTERS = chapter_notebooks(ROOT)
TAGGED = [p for p in CHAPTERS if exercises.is_converted(json.loads(p.read_text()))]


def _nb(path=FIXTURE):
    return json.loads(Path(path).read_text())


def test_the_fixture_follows_the_convention():
    found = exercises.read_exercises(_nb())
    assert [(e.label, e.kind) for e in found] == [("fx-ex-square", "code"), ("fx-ex-count", "code"),
                                                  ("fx-ex-why", "written"), ("fx-ex-time", "measure")]
    assert exercises.problems(_nb()) == []


def test_a_code_exercise_without_a_check_is_a_problem():
    nb = _nb()
    nb["cells"] = [c for c in nb["cells"] if "exercise-check" not in c["metadata"].get("tags", [])]
    found = exercises.problems(nb)
    assert len(found) == 2 and all("no check cell" in p for p in found), found


def test_an_exercise_without_a_tag_is_a_problem():
    nb = _nb()
    del nb["cells"][13]["metadata"]["tags"]
    assert any(p.startswith("fx-ex-why: its cell 13 has none of the tags") for p in exercises.problems(nb))


def test_a_reference_that_does_not_end_with_its_check_is_a_problem():
    nb = _nb()
    nb["cells"][12]["source"] = "my_count = 3 * 4 * 5\n"
    assert any("does not end with `assert check_" in p for p in exercises.problems(nb))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_code_exercise_has_a_check(path):
    missing = [p for p in exercises.problems(_nb(path)) if "no check cell" in p or "check cell" in p]
    assert not missing, f"{path.name}: " + "; ".join(missing)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_exercise_follows_the_convention(path):
    """Applies to the chapters converted to the tags; the others are skipped until their authors convert them."""
    if path not in TAGGED:
        pytest.skip(f"{path.name}: no exercise carries an exercise-* tag yet (not converted)")
    found = exercises.problems(_nb(path))
    assert not found, f"{path.name}: " + "; ".join(found)


