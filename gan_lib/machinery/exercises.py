"""Machinery: a chapter's exercises, read from the cell tags of CONTRIBUTING.md's convention ("Exercises").

The markdown cell of an exercise (a ``{exercise}`` directive) carries one tag: ``exercise-code`` (a stub cell
tagged ``exercise``, then a one-line check cell tagged ``exercise-check``; the solution's code cells, tagged
``solution``, define the stub's names and end with ``assert check_...``), ``exercise-written`` (answered in
words; the solution's text is the rubric) or ``exercise-measure`` (a stub cell, no check). :func:`read_exercises`
finds each exercise's cells; :func:`problems` lists what breaks the convention. The student edition and the
nbgrader course (``assignments``) both read them from here.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from .myst import FENCE, cell_text, closes, directive_options

KINDS = {"exercise-code": "code", "exercise-written": "written", "exercise-measure": "measure"}
STUB_TAG, CHECK_TAG, SOLUTION_TAG = "exercise", "exercise-check", "solution"


@dataclass
class Exercise:
    """One exercise: where its cells are in the notebook, and its solution."""
    label: str | None
    kind: str | None                 # "code", "written", "measure"; None when its cell has no tag
    cell: int                        # the markdown cell with the {exercise} directive
    stubs: list[int] = field(default_factory=list)           # cells tagged "exercise"
    check: int | None = None                                  # the cell tagged "exercise-check"
    solution_cells: list[int] = field(default_factory=list)  # code cells of its solution
    solution_text: list[str] = field(default_factory=list)   # markdown of its solution
    notes: list[str] = field(default_factory=list)           # what is wrong with its cells

    @property
    def name(self) -> str:
        return self.label or f"the exercise in cell {self.cell}"


def tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []) or [])


def is_converted(nb: dict) -> bool:
    """Does the notebook use the convention (any cell tagged exercise-code, -written or -measure)?"""
    return any(tags(c) & set(KINDS) for c in nb["cells"])


def _scan_markdown(text: str, cell_index: int, cell_kind: str | None, found: list[Exercise],
                   by_label: dict, span: list) -> None:
    """Read one markdown cell: new exercises, {solution} blocks, solution spans (``span``: [label] or [])."""
    lines, i, outside = text.splitlines(), 0, []
    while i < len(lines):
        match, start = FENCE.match(lines[i]), i
        if not match:
            if span:
                outside.append(lines[i])
            i += 1
            continue
        body, j = [], i + 1
        while j < len(lines) and not closes(lines[j], match["fence"]):
            body.append(lines[j])
            j += 1
        i = j + 1
        name, arg = match["name"], match["arg"].strip()
        options, content = directive_options(body)
        if name in ("exercise", "exercise-start"):
            exercise = Exercise(options.get("label"), cell_kind, cell_index)
            if any(e.cell == cell_index for e in found) and cell_kind:
                exercise.notes.append(f"cell {cell_index} holds more than one exercise: give each its own cell")
            found.append(exercise)
            if exercise.label:
                by_label[exercise.label] = exercise
        elif name == "solution":
            target = by_label.get(arg) or (found[-1] if found else None)
            if target:
                target.solution_text.append("\n".join(content).strip())
        elif name == "solution-start":
            _flush(outside, span, by_label, found)
            span[:] = [arg]
        elif name == "solution-end":
            _flush(outside, span, by_label, found)
            span.clear()
        elif span:
            outside += lines[start:j + 1]
    _flush(outside, span, by_label, found)


def _flush(outside: list[str], span: list, by_label: dict, found: list[Exercise]) -> None:
    if span and "\n".join(outside).strip():
        target = by_label.get(span[0]) or (found[-1] if found else None)
        if target:
            target.solution_text.append("\n".join(outside).strip())
    outside.clear()


def read_exercises(nb: dict) -> list[Exercise]:
    """Every exercise of the notebook, with its stub, check and solution cells (see the module docstring)."""
    found: list[Exercise] = []
    by_label: dict[str, Exercise] = {}
    span: list = []
    for index, cell in enumerate(nb["cells"]):
        cell_tags = tags(cell)
        if cell["cell_type"] == "markdown":
            kinds = [KINDS[t] for t in sorted(cell_tags & set(KINDS))]
            _scan_markdown(cell_text(cell), index, kinds[0] if kinds else None, found, by_label, span)
            if len(kinds) > 1 and found:
                found[-1].notes.append(f"cell {index} has {len(kinds)} exercise tags: give it one")
            continue
        owner = (by_label.get(span[0]) if span else None) or (found[-1] if found else None)
        if STUB_TAG in cell_tags:
            if owner is None:
                continue
            owner.stubs.append(index)
        elif CHECK_TAG in cell_tags and owner is not None:
            if owner.check is not None:
                owner.notes.append(f"{owner.name} has two check cells ({owner.check} and {index})")
            owner.check = index
        elif (SOLUTION_TAG in cell_tags or span) and owner is not None and cell["cell_type"] == "code":
            owner.solution_cells.append(index)
    return found


def bound_names(source: str) -> list[str]:
    """The names a cell binds at its top level by ``def``, ``class`` or assignment (not imports), in order."""
    try:
        tree = ast.parse(_no_magics(source))
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    return list(dict.fromkeys(names))


def _no_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def check_call(source: str) -> str | None:
    """The check call of a check cell (``check_x(my_x)``, without ``;``), or None if it is not one such line."""
    lines = [line for line in source.strip().splitlines() if line.strip() and not line.strip().startswith("#")]
    if len(lines) != 1:
        return None
    line = lines[0].strip().rstrip(";").strip()
    line = line[len("assert "):].strip() if line.startswith("assert ") else line
    try:
        node = ast.parse(line).body[0]
    except (SyntaxError, IndexError):
        return None
    ok = (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
          and isinstance(node.value.func, (ast.Name, ast.Attribute)))
    func = node.value.func if ok else None
    name = func.id if isinstance(func, ast.Name) else func.attr if func is not None else ""
    return line if ok and name.startswith("check_") else None


def _ends_with_check(source: str) -> bool:
    try:
        body = ast.parse(_no_magics(source)).body
    except SyntaxError:
        return False
    last = body[-1] if body else None
    return (isinstance(last, ast.Assert) and isinstance(last.test, ast.Call)
            and re.match(r"check_", getattr(last.test.func, "id", getattr(last.test.func, "attr", ""))) is not None)


def reference_cell(nb: dict, exercise: Exercise) -> int | None:
    """The solution cell that defines the stub's names (the last such cell), or None."""
    wanted = set().union(*(bound_names(cell_text(nb["cells"][i])) for i in exercise.stubs)) if exercise.stubs else set()
    for index in reversed(exercise.solution_cells):
        if wanted and wanted <= set(bound_names(cell_text(nb["cells"][index]))):
            return index
    return None


def problems(nb: dict) -> list[str]:
    """What breaks the convention, one line each: untagged exercises, code exercises without a check ..."""
    out: list[str] = []
    for ex in read_exercises(nb):
        out += [f"{ex.name}: {note}" for note in ex.notes]
        if ex.kind is None:
            out.append(f"{ex.name}: its cell {ex.cell} has none of the tags exercise-code, exercise-written, "
                       "exercise-measure")
        elif ex.kind in ("code", "measure") and not ex.stubs:
            out.append(f"{ex.name}: no stub cell tagged 'exercise' after it")
        if ex.kind == "code":
            if ex.check is None:
                out.append(f"{ex.name}: a code exercise with no check cell (tag 'exercise-check'); if it is an "
                           "open-ended measurement, tag it exercise-measure and say what the student should see")
            elif check_call(cell_text(nb["cells"][ex.check])) is None:
                out.append(f"{ex.name}: its check cell {ex.check} is not one line calling a check_... function")
            ref = reference_cell(nb, ex)
            if ex.stubs and ref is None:
                out.append(f"{ex.name}: no solution cell defines the stub's names "
                           f"{bound_names(cell_text(nb['cells'][ex.stubs[0]]))}")
            elif ref is not None and not _ends_with_check(cell_text(nb["cells"][ref])):
                out.append(f"{ex.name}: its solution cell {ref} does not end with `assert check_...(...)`")
        elif ex.check is not None:
            out.append(f"{ex.name}: an exercise-{ex.kind} exercise with a check cell: tag it exercise-code")
    return out
