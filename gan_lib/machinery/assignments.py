"""Machinery: the nbgrader course: each chapter whose exercises are tagged becomes an nbgrader assignment.

``python -m gan_lib assignments COURSE_DIR`` writes ``COURSE_DIR/nbgrader_config.py`` and
``COURSE_DIR/source/chNN/chNN.ipynb`` from the chapter notebooks, read with the tags of CONTRIBUTING.md
("Exercises"):

* a code exercise's stub cell becomes an nbgrader solution cell holding the reference solution's definition
  (from the chapter's ``solution`` cells) between ``### BEGIN SOLUTION`` and ``### END SOLUTION``: the body of a
  function, or the statements that set a variable, so the release keeps the signature and docstring;
* its check cell becomes a locked, autograded test cell, ``assert check_...(...)``, worth ``CODE_POINTS``; its
  failure message is the check's own (one line, see ``checks.core``);
* a written exercise becomes a manually graded task cell worth ``WRITTEN_POINTS``, whose rubric (the
  solution's text and code) sits in a mark-scheme region that ``nbgrader generate_assignment`` removes from the
  release; graders see it again in the autograded notebook. A "**Your answer.**" cell follows it;
* a measurement exercise keeps its stub as an ordinary, editable, ungraded cell;
* every other cell is locked read-only, and the book's other solution cells and text are dropped.

The markdown is made plain, as in the student edition (``myst``). The assignments run at the smoke budget when
nbgrader runs them (``nbgrader_config.py`` sets ``GAN_BOOK_BUDGET``), so grading a submission takes seconds.
nbgrader itself (the optional extra ``course``) is needed to release and grade, not to write the course.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .exercises import bound_names, check_call, is_converted, problems, read_exercises, reference_cell
from .myst import PlainMarkdown, book_index, cell_text
from .solutions import solution_source
from .student import ANSWER_TEXT, strip_markdown
from .toc import chapter_notebooks

CODE_POINTS, WRITTEN_POINTS = 1, 2   # per code exercise (its check), per written exercise (graded by hand)
COURSE_ID = "gan-generator-book"
EXECUTE_TIMEOUT = 900                # seconds per cell when nbgrader executes (its default, 30, is too short)
WARNINGS_TO_STDOUT = ("--IPKernelApp.exec_lines=import sys, warnings; warnings.showwarning = lambda message, category, "
                      "filename, lineno, file=None, line=None: sys.stdout.write(warnings.formatwarning(message, "
                      "category, filename, lineno, line))")
BEGIN_RUBRIC, END_RUBRIC = "=== BEGIN MARK SCHEME ===", "=== END MARK SCHEME ==="


def nbgrader_meta(grade_id: str, *, grade=False, solution=False, locked=False, task=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
            "task": task}
    if points is not None:
        meta["points"] = points
    return meta


def test_source(check_source: str, exercise_name: str, names: list[str]) -> str:
    """The autograded test cell: the check call, asserted, with a message for an answer not written yet."""
    call = check_call(check_source)
    what = ", ".join(f"`{n}`" for n in names) or "your answer"
    return f'assert {call}, "{exercise_name} is not answered yet: write {what} in the cell above and run it."\n'


def rubric(nb: dict, exercise, plain: PlainMarkdown) -> str:
    """The mark scheme of a written exercise: its solution's text and its solution's code."""
    parts = [plain(text) for text in exercise.solution_text if text.strip()]
    for index in exercise.solution_cells:
        parts.append("```python\n" + cell_text(nb["cells"][index]).strip() + "\n```")
    return "\n\n".join(parts) or "(The book gives no solution text: grade by the exercise's statement.)"


def _cell(kind: str, source: str, meta: dict | None, cell_id: str) -> dict:
    cell = {"cell_type": kind, "id": cell_id[:64], "metadata": {"nbgrader": meta} if meta else {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def assignment_notebook(nb: dict, number: int, plain: PlainMarkdown, title: str = "") -> tuple[dict, list[dict]]:
    """The nbgrader source notebook of a chapter, and one summary row per exercise (see the module docstring)."""
    exercises = read_exercises(nb)
    by_cell = {ex.cell: ex for ex in exercises}
    stubs = {i: ex for ex in exercises for i in ex.stubs}
    checks = {ex.check: ex for ex in exercises if ex.check is not None}
    aid, cells, rows, in_span = f"ch{number:02d}", [], [], False
    for i, cell in enumerate(nb["cells"]):
        source, cid = cell_text(cell), cell.get("id") or f"cell-{i}"
        if cell["cell_type"] == "markdown":
            text, in_span = strip_markdown(source, in_span)
            if not text.strip():
                continue
            ex = by_cell.get(i)
            if ex is not None and ex.kind == "written":
                task = f"{plain(text)}\n\n{BEGIN_RUBRIC}\n\n**Rubric** ({WRITTEN_POINTS} points, graded by hand):\n\n"
                task += f"{rubric(nb, ex, plain)}\n\n{END_RUBRIC}\n"
                cells.append(_cell("markdown", task, nbgrader_meta(f"{aid}-{ex.label}-task", locked=True, task=True,
                                                                   points=WRITTEN_POINTS), cid))
                cells.append(_cell("markdown", ANSWER_TEXT + "\n", None, f"{cid}-answer"))
                rows.append({"label": ex.label, "kind": "written", "points": WRITTEN_POINTS, "graded": "by hand"})
                continue
            cells.append(_cell("markdown", plain(text), nbgrader_meta(f"{aid}-cell-{i}", locked=True), cid))
            if ex is not None and ex.kind == "measure":
                rows.append({"label": ex.label, "kind": "measure", "points": 0, "graded": "not graded"})
            continue
        if i in stubs and stubs[i].kind == "code":
            ex = stubs[i]
            if i != ex.stubs[0]:
                continue
            stub = "\n\n".join(cell_text(nb["cells"][j]) for j in ex.stubs)
            ref = cell_text(nb["cells"][reference_cell(nb, ex)])
            cells.append(_cell("code", solution_source(stub, ref), nbgrader_meta(f"{aid}-{ex.label}", solution=True),
                               cid))
        elif i in stubs:
            cells.append(_cell("code", source, None, cid))  # a measurement: the student's cell, ungraded
        elif i in checks:
            ex = checks[i]
            names = bound_names("\n\n".join(cell_text(nb["cells"][j]) for j in ex.stubs))
            test = test_source(source, f"Exercise {plain.index.exercises.get(ex.label, ex.label)} ({ex.label})", names)
            cells.append(_cell("code", test, nbgrader_meta(f"{aid}-{ex.label}-check", grade=True, locked=True,
                                                           points=CODE_POINTS), cid))
            rows.append({"label": ex.label, "kind": "code", "points": CODE_POINTS, "graded": check_call(source)})
        elif "solution" in set(cell.get("metadata", {}).get("tags", [])) or in_span:
            continue  # the book's solution cells: the reference definitions went into the solution cells above
        else:
            cells.append(_cell("code", source, nbgrader_meta(f"{aid}-cell-{i}", locked=True), cid))
    for row in rows:
        row["number"] = plain.index.exercises.get(row["label"], "?")
    cells.insert(1 if cells else 0, _cell("markdown", _header(number, title, rows),
                                          nbgrader_meta(f"{aid}-header", locked=True), f"{aid}-header"))
    metadata = {k: v for k, v in nb.get("metadata", {}).items() if k in ("kernelspec", "language_info")}
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}, rows


def _header(number: int, title: str, rows: list[dict]) -> str:
    code = sum(r["points"] for r in rows if r["kind"] == "code")
    written = sum(r["points"] for r in rows if r["kind"] == "written")
    return (f"**Assignment ch{number:02d}: chapter {number}{', ' + title if title else ''}.** {code + written} points: "
            f"{code} for the code exercises ({CODE_POINTS} each, graded by their checks) and {written} for the "
            f"written ones ({WRITTEN_POINTS} each, graded by hand). Write code where it says `YOUR CODE HERE` "
            "(the locked cell after it checks it) and words in the **Your answer** cells; the rest of the chapter "
            "is locked. Before you submit, run the whole notebook from a fresh kernel (Kernel, Restart and Run All).")


def config_source(course_dir: Path, course_id: str = COURSE_ID) -> str:
    """The course's ``nbgrader_config.py``: its id, its absolute root, the execution timeout and the budget."""
    return f'''"""nbgrader configuration of the course written by `python -m gan_lib assignments` (see book/instructors.md)."""
import os

c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = {str(course_dir.resolve())!r}  # absolute: a relative root can break generate_assignment
# nbgrader runs each cell with a timeout of its own, 30 s by default: too short for a chapter's training cells.
c.Execute.timeout = {EXECUTE_TIMEOUT}
# Grade at the smoke budget: the kernels nbgrader starts (autograde, validate) inherit this environment, so every
# cell and every check runs but training is a few steps long. Students' own kernels keep their machine's budget.
os.environ.setdefault("GAN_BOOK_BUDGET", "smoke")
os.environ.setdefault("GAN_BOOK_PROGRESS", "0")
# nbgrader gives a test cell no points if it writes anything to stderr, a harmless warning included: in the kernels
# it starts, warnings go to stdout instead (they still show in the graded notebook and the feedback).
c.Execute.extra_arguments = [{WARNINGS_TO_STDOUT!r}]
# The feedback students get is made from the graded notebook, which shows graders the written tasks' rubrics:
# take them out of the feedback too, so that the rubrics stay usable next term.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearMarkScheme, GetGrades  # noqa: E402
c.GenerateFeedback.preprocessors = [GetGrades, ClearMarkScheme, CSSHTMLHeaderPreprocessor]
'''


def write_course(root: Path, course_dir: Path, course_id: str = COURSE_ID,
                 notebooks: dict[Path, int] | None = None) -> tuple[list[dict], list[str]]:
    """Write the course; returns one summary per assignment written and one line per chapter skipped.

    ``notebooks`` (path -> chapter number) replaces the chapters of ``_toc.yml`` (for tests).
    """
    index = book_index(root, extra=notebooks)
    if notebooks is None:
        notebooks = {p: index.chapters[p.relative_to(root).with_suffix("").as_posix()] for p in chapter_notebooks(root)
                     if p.relative_to(root).with_suffix("").as_posix() in index.chapters}
    course_dir.mkdir(parents=True, exist_ok=True)
    (course_dir / "nbgrader_config.py").write_text(config_source(course_dir, course_id))
    written, skipped = [], []
    for path, number in notebooks.items():
        nb = json.loads(path.read_text())
        if not is_converted(nb):
            skipped.append(f"ch{number:02d} ({path.name}): its exercises carry no exercise-* tags yet")
            continue
        wrong = problems(nb)
        if wrong:
            skipped.append(f"ch{number:02d} ({path.name}): not written, its exercises break the convention: "
                           + "; ".join(wrong))
            continue
        title = next((t for d, t in index.titles.items() if d.split("/")[-1] == path.stem), "")
        source, rows = assignment_notebook(nb, number, PlainMarkdown(index, number), title)
        dest = course_dir / "source" / f"ch{number:02d}" / f"ch{number:02d}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(source, indent=1, ensure_ascii=False) + "\n")
        written.append({"assignment": f"ch{number:02d}", "chapter": path.name, "path": dest, "exercises": rows})
    return written, skipped


def main(root: Path, course_dir: Path, course_id: str = COURSE_ID) -> int:
    """The ``assignments`` command: write the course and say, per assignment, what is graded and how."""
    root, course_dir = root.resolve(), course_dir.resolve()
    written, skipped = write_course(root, course_dir, course_id)
    for item in written:
        rows = item["exercises"]
        total = sum(r["points"] for r in rows)
        print(f"{item['assignment']}: {item['chapter']} -> {item['path'].relative_to(course_dir)} ({total} points)")
        for r in rows:
            print(f"  {r['number']:<5} {r['label']:<28} {r['kind']:<8} {r['points']} pt  {r['graded']}")
    for line in skipped:
        print(f"skipped {line}")
    print(f"wrote {course_dir / 'nbgrader_config.py'} (course {course_id!r}) and {len(written)} assignment(s)"
          + (f"; release one with: cd {course_dir} && nbgrader generate_assignment {written[0]['assignment']}"
             if written else ""))
    broken = [s for s in skipped if "break the convention" in s]
    if broken:
        print(f"error: {len(broken)} chapter(s) not written; fix their exercise cells (CONTRIBUTING.md, Exercises)",
              file=sys.stderr)
    return 1 if broken else 0
