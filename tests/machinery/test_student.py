"""The student edition (gan_lib.machinery.student): no solution survives, the exercises do, and the notebooks still run.

The student *book* (``student-edition OUT --book``) needs an executed main build; ``.ci/run`` builds and checks it.
"""
import ast
import builtins
import json
import re

import nbformat
import pytest
from nbclient import NotebookClient

from gan_lib import cli
from gan_lib.machinery import student
from gan_lib.machinery.toc import chapter_notebooks

ROOT = student.Path(__file__).resolve().parents[2]
CHAPTERS = chapter_notebooks(ROOT)


def test_solution_directive_goes_exercise_stays():
    text = ("Intro.\n\n```{exercise}\n:label: ex-a\nDo it.\n```\n\n```{solution} ex-a\n:class: dropdown\n"
            "The answer is 42.\n````{note}\nnested\n````\n```\n\nAfter.\n")
    new, open_span = student.strip_markdown(text)
    assert "Do it." in new and "After." in new and "{exercise}" in new
    assert "42" not in new and "nested" not in new and "{solution}" not in new and not open_span


def test_colon_fence_and_longer_fence():
    text = ":::{solution} ex-a\nsecret\n:::\nkept\n`````{solution} ex-b\n```python\nsecret2\n```\n`````\nkept2\n"
    new, _ = student.strip_markdown(text)
    assert "secret" not in new and new.split() == ["kept", "kept2"]


def test_solution_span_runs_across_cells():
    cells = [nbformat.v4.new_markdown_cell("```{exercise}\n:label: ex-a\nDo it.\n```\n\n"
                                           "```{solution-start} ex-a\n:class: dropdown\n```\nWhy: secret."),
             nbformat.v4.new_code_cell("forty_two = 42", metadata={"tags": ["solution"]}),
             nbformat.v4.new_code_cell("untagged_but_inside = 1"),
             nbformat.v4.new_markdown_cell("More secret.\n```{solution-end}\n```\n\nNext section."),
             nbformat.v4.new_code_cell("print('kept')")]
    nb = student.strip_notebook(nbformat.v4.new_notebook(cells=cells))
    sources = [c["source"] for c in nb["cells"]]
    assert not any("secret" in s or "forty_two" in s or "untagged" in s for s in sources)
    assert "Do it." in sources[0] and sources[-2] == "Next section." and sources[-1] == "print('kept')"
    stub = nb["cells"][1]
    assert stub["cell_type"] == "code" and "exercise" in stub["metadata"]["tags"] and "ex-a" in stub["source"]


def test_an_existing_exercise_stub_is_kept_and_not_doubled():
    cells = [nbformat.v4.new_markdown_cell("```{exercise}\n:label: ex-a\nWrite f.\n```"),
             nbformat.v4.new_code_cell("def f(x):\n    ...  # your code", metadata={"tags": ["exercise"]}),
             nbformat.v4.new_markdown_cell("```{solution} ex-a\nf is x + 1\n```"),
             nbformat.v4.new_code_cell("def f(x):\n    return x + 1", metadata={"tags": ["solution"]})]
    nb = student.strip_notebook(nbformat.v4.new_notebook(cells=cells))
    assert [c["source"].splitlines()[0] for c in nb["cells"]] == ["```{exercise}", "def f(x):"]


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    assert cli.main(["student-edition", str(out), "--root", str(ROOT)]) == 0
    return out


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _labels(cells, directive):
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return re.findall(r"\{" + directive + r"\}[^\n]*\n(?:[^\n]*\n)*?\s*:label:\s*(\S+)", text)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_student_notebook_has_no_solution_and_every_exercise(edition, path):
    original, cells = _cells(path), _cells(edition / path.relative_to(ROOT))
    assert not [c for c in cells if "solution" in c.get("metadata", {}).get("tags", [])]
    text = "\n".join("".join(c["source"]) for c in cells)
    assert not student.solution_text_left(text), "solution directive text left in the student notebook"
    body = "\n".join("".join(c["source"]) for c in original if "solution" not in c.get("metadata", {}).get("tags", []))
    for cell in original:  # no line that only a solution cell has survives
        if "solution" in cell.get("metadata", {}).get("tags", []):
            for line in "".join(cell["source"]).splitlines():
                if len(line.strip()) > 20 and line not in body:
                    assert line not in text, f"solution code left: {line!r}"
    assert _labels(cells, "exercise") == _labels(original, "exercise")
    nbformat.validate(nbformat.reads(json.dumps({**json.loads(path.read_text()), "cells": cells}), as_version=4))


def _bound_and_used(source: str) -> tuple[set[str], set[str]]:
    source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    tree = ast.parse(source)
    bound, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound, used


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_later_cell_needs_a_name_only_a_solution_defined(path):
    """Removing the solution cells must not break the cells after them (checked statically, with ast)."""
    kept, only_solution, problems = set(dir(builtins)), set(), []
    for index, cell in enumerate(_cells(path)):
        if cell["cell_type"] != "code":
            continue
        bound, used = _bound_and_used("".join(cell["source"]))
        if "solution" in cell.get("metadata", {}).get("tags", []):
            only_solution |= bound - kept
            continue
        missing = (used - bound - kept) & only_solution
        if missing:
            problems.append(f"cell {index} uses {sorted(missing)}, defined only in a solution cell above")
        kept |= bound
        only_solution -= bound
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_student_chapter_1_runs_top_to_bottom(edition):
    path = edition / "chapters" / "01_generator.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_book_needs_an_executed_build(tmp_path):
    with pytest.raises(FileNotFoundError, match="build the book first"):
        student.build_book(tmp_path, tmp_path / "out")
