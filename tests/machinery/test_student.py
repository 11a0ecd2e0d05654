"""The student edition (gan_lib.machinery.student): no solution survives, the exercises do, and the notebooks still run.

Its notebooks are plain Markdown for Jupyter and Colab (gan_lib.machinery.myst): exercises as bold headings,
the HTML's equation numbers, readable citations. The student *book* (``student-edition OUT --book``) needs an
executed main build; ``.ci/run`` builds and checks it; here its configuration is checked (no button that leads
to the solutions).
"""
import ast
import builtins
import json
import re

import nbformat
import pytest
from nbclient import NotebookClient

from gan_lib import cli
from gan_lib.machinery import myst, student
from gan_lib.machinery.toc import chapter_notebooks

ROOT = student.Path(__file__).resolve().parents[2]
CHAPTERS = chapter_notebooks(ROOT)
FIXTURE = ROOT / "tests" / "fixtures" / "exercises_chapter.ipynb"
INDEX = myst.book_index(ROOT)


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


def _plain_labels(cells):
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return re.findall(r"^\*\*Exercise \d+\.\d+[^*\n]*\*\* \(([\w-]+)\)$", text, re.M)


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
    assert _plain_labels(cells) == _labels(original, "exercise")
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    left = re.findall(r"\{(?:eq|cite:[pt]|ref|doc|exercise)\}|\$\$\s*\([\w-]+\)|^\([\w-]+\)=", markdown, re.M)
    assert not left, f"MyST left in the student notebook: {sorted(set(left))}"
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


# --- plain Markdown for Jupyter and Colab ------------------------------------------------------------------

def test_an_exercise_becomes_a_bold_heading_with_its_number_and_label():
    text = ("```{exercise}\n:label: ch2-ex-logit-grad\n:class: hard\nShow that Eq. {eq}`ch2-bce` ...\n```\n\n"
            "```{note}\nA note.\n```")
    out = myst.plain_markdown(text, INDEX, 2)
    assert out.startswith("**Exercise 2.1** (ch2-ex-logit-grad)\n\nShow that Eq. (2.2) ...")
    assert "**Note.**\n\nA note." in out and ":class:" not in out and "```" not in out


def test_equations_get_the_htmls_numbers_and_targets_go():
    text = "(sec-a)=\n## A\n\n$$\nx = 1\n$$ (ch1-generator)\n\nBy {eq}`ch1-generator` and {eq}`ch2-bce`."
    out = myst.plain_markdown(text, INDEX, 1)
    assert "$$\nx = 1 \\tag{1.1}\n$$" in out and "By (1.1) and (2.2)." in out and "(sec-a)=" not in out


def test_citations_refs_and_docs_become_readable_text():
    out = myst.plain_markdown("{cite:t}`kingma2015adam` and {cite:p}`goodfellow2014gan,kingma2015adam`; "
                              "{ref}`ch2-logits`, {ref}`ch3-ex-leaky`, {ref}`the logits <ch2-logits>`; "
                              "{doc}`../chapters/03_backprop` and {doc}`this page <intro>`.", INDEX)
    assert out == ("Kingma and Ba [2015] and [Goodfellow et al., 2014; Kingma and Ba, 2015]; Why networks output "
                   "logits, Exercise 3.1, the logits; Chapter 3, The generator's gradient, by hand and this page.")


def test_the_bibliography_reader_takes_surnames_accents_and_groups():
    bib = myst.parse_bib("@article{a,\n  author = {Kusner, Matt J. and Hern{\\'a}ndez-Lobato, Jos{\\'e}},\n"
                         "  year = {2016}\n}\n@misc{b,\n  author = {{The Team}},\n  title = {T}\n}\n"
                         "@book{c, author = {Ada Lovelace and Charles Babbage and Alan Turing}, year = 1843}")
    assert bib == {"a": ("Kusner and Hernández-Lobato", "2016"), "b": ("The Team", "n.d."),
                   "c": ("Lovelace et al.", "1843")}


def test_numbers_are_per_chapter_in_toc_order():
    chapters = myst.numbered_chapters(ROOT)
    assert chapters["chapters/01_generator"] == 1 and sorted(chapters.values()) == list(range(1, len(chapters) + 1))
    for label, number in INDEX.equations.items():
        chapter = int(number.split(".")[0])
        assert label.startswith(f"ch{chapter}-"), (label, number)


HTML = ROOT / "_build" / "html" / "chapters"


@pytest.mark.skipif(not HTML.is_dir(), reason="no HTML build to compare with (jupyter-book build . --all)")
def test_equation_and_exercise_numbers_are_those_of_the_html():
    """Against the pages built after their notebook last changed (a stale page says nothing)."""
    fresh = [p for p in sorted(HTML.glob("*.html"))
             if (ROOT / "chapters" / f"{p.stem}.ipynb").is_file()
             and p.stat().st_mtime >= (ROOT / "chapters" / f"{p.stem}.ipynb").stat().st_mtime]
    if not fresh:
        pytest.skip("every built chapter page is older than its notebook: rebuild to compare")
    for page in fresh:
        html = page.read_text()
        for label, number in re.findall(r'id="equation-([\w-]+)">\s*<span class="eqno">\(([\d.]+)\)', html):
            assert INDEX.equations[label] == number, (page.name, label)
        for label, number in re.findall(r'<div class="exercise[^"]*" id="([\w-]+)">\s*<p class="admonition-title">'
                                        r'<span class="caption-number">Exercise ([\d.]+) ', html):
            assert INDEX.exercises[label] == number, (page.name, label)


def test_a_tagged_chapter_gets_answer_cells_and_keeps_stubs_and_checks():
    index = myst.book_index(ROOT, extra={FIXTURE: 9})
    nb = student.strip_notebook(json.loads(FIXTURE.read_text()), markdown=myst.PlainMarkdown(index, 9))
    sources = ["".join(c["source"]) for c in nb["cells"]]
    text = "\n".join(sources)
    for secret in ("REFERENCE-LINE", "SOLUTION-TEXT", "DEMO-ONLY", "RUBRIC", "TIME-SOLUTION"):
        assert secret not in text, secret
    why = next(i for i, s in enumerate(sources) if "(fx-ex-why)" in s)
    assert sources[why + 1] == student.ANSWER_TEXT + "\n" and nb["cells"][why + 1]["cell_type"] == "markdown"
    assert sum(s.startswith(student.ANSWER_TEXT) for s in sources) == 1  # written exercises only
    tags = [c["metadata"].get("tags", []) for c in nb["cells"] if c["cell_type"] == "code"]
    assert tags.count(["exercise"]) == 3 and tags.count(["exercise-check"]) == 2  # no empty stub added
    assert "**Exercise 9.1** (fx-ex-square)" in text and "\\tag{9.1}" in text


# --- the student book: no button to the solutions ---------------------------------------------------------

def test_the_student_book_has_no_launch_or_repository_buttons_by_default():
    config = student.student_config(student.yaml.safe_load((ROOT / "_config.yml").read_text()))
    assert config["html"]["use_repository_button"] is False and config["html"]["use_edit_page_button"] is False
    launch = config["launch_buttons"]
    assert not launch["binderhub_url"] and not launch["colab_url"] and not launch.get("jupyterhub_url")
    assert not config["repository"]["url"] and config["execute"]["execute_notebooks"] == "off"


def test_the_student_book_can_point_its_buttons_at_the_student_notebooks():
    repo = student.StudentRepository("https://github.com/someone/gan-book-student", "spring", "edition")
    config = student.student_config(student.yaml.safe_load((ROOT / "_config.yml").read_text()), repo)
    assert config["repository"] == {"url": repo.url, "path_to_book": "edition", "branch": "spring"}
    assert config["launch_buttons"]["colab_url"] and config["html"]["use_repository_button"]


def test_the_books_own_repository_is_refused_and_links_to_it_are_found(tmp_path):
    book_url = student.yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    with pytest.raises(ValueError, match="the book's own repository"):
        student.build_book(ROOT, tmp_path, repository=student.StudentRepository(book_url + ".git"))
    (tmp_path / "a.html").write_text(f'<a href="https://colab.research.google.com/github/'
                                     f'{book_url.split("github.com/")[1]}/blob/main/chapters/01.ipynb">x</a>')
    (tmp_path / "b.html").write_text('<a href="https://colab.research.google.com/github/x/y/blob/main/c.ipynb">y</a>')
    assert student.links_to_repository(tmp_path, book_url) == ["a.html"]


def test_the_commands_help_says_what_happens_to_the_buttons(capsys):
    with pytest.raises(SystemExit):
        cli.main(["student-edition", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--repository-url" in out and "no launch or repository buttons" in out
