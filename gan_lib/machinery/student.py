"""Machinery: the student edition: the chapters without their solutions, as notebooks and as a book.

``python -m gan_lib student-edition OUT`` writes ``OUT/chapters/*.ipynb``: every chapter listed in ``_toc.yml``
with each cell tagged ``solution`` removed, and the text of every ``{solution}`` directive (and of every
``{solution-start}`` ... ``{solution-end}`` span, cells included) removed from the markdown. The exercises and
the cells tagged ``exercise`` (the stubs a student fills in) stay. Where a solution's code cells are removed and
the chapter gives no stub, an empty code cell tagged ``exercise`` takes their place, for the student's answer.

``--book`` also builds ``OUT/_build/html`` from the notebooks the main build already executed
(``_build/jupyter_execute``), with the same cells and text removed and ``execute_notebooks: off``: nothing is
executed a second time, and the build is as strict as the main one (``-W -n --keep-going``).
"""
from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from .toc import chapter_notebooks, toc_files

SOLUTION_TAG = "solution"
EXERCISE_TAG = "exercise"
# A MyST directive opens with a fence of 3+ backticks or colons followed by {name}.
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|:{3,})\s*\{(?P<name>[a-z-]+)\}")
# Lines whose text means "this is solution material": the student edition must contain none.
SOLUTION_MARKERS = ("{solution}", "{solution-start}", "{solution-end}")
# Top-level names that are never sources of a book (copied for --book only if the toc needs them).
_NOT_BOOK = {".git", ".venv", "venv", "_build", "tests", "gan_lib", "benchmarks", ".ci", "student_edition",
             ".pytest_cache", "data", "node_modules", ".binder", "binder"}


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and set(stripped) == {fence[0]} and len(stripped) >= len(fence)


def strip_markdown(text: str, in_span: bool = False) -> tuple[str, bool]:
    """Remove solution directives from MyST text. Returns the new text and whether a solution span is still open.

    ``{solution}`` blocks go with their content; ``{solution-start}`` opens a span that runs, across cells,
    to the end of the ``{solution-end}`` block, and everything in it goes. ``in_span`` carries that state
    from the previous cell.
    """
    out: list[str] = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        name = match["name"] if match else None
        if name in ("solution", "solution-start", "solution-end") or (match and in_span):
            # skip the whole directive block (its fence to the closing fence)
            fence, j = match["fence"], i + 1
            while j < len(lines) and not _closes(lines[j], fence):
                j += 1
            i = j + 1
            if name == "solution-start":
                in_span = True
            elif name == "solution-end":
                in_span = False
            continue
        if not in_span:
            out.append(lines[i])
        i += 1
    new = "".join(out)
    new = re.sub(r"\n{3,}", "\n\n", new).strip("\n")
    return new, in_span


def _tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _stub_cell(label: str | None) -> dict:
    source = f"# Exercise {label}: your answer here.\n" if label else "# Your answer here.\n"
    return {"cell_type": "code", "execution_count": None, "id": f"stub-{label or 'exercise'}",
            "metadata": {"tags": [EXERCISE_TAG]}, "outputs": [], "source": source}


def strip_notebook(nb: dict, stubs: bool = True) -> dict:
    """A copy of notebook ``nb`` (nbformat 4 JSON) without its solutions; see the module docstring.

    ``stubs=False`` adds no empty exercise cells (the student *book* has no use for them).
    """
    nb = copy.deepcopy(nb)
    cells: list[dict] = []
    in_span = False
    last_exercise: str | None = None
    removed_code = False  # solution code was removed since the last kept cell
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            labels = re.findall(r"\{exercise(?:-start)?\}[^\n]*\n(?:[^\n]*\n)*?\s*:label:\s*(\S+)", source)
            new, in_span_after = strip_markdown(source, in_span)
            if removed_code and not (cells and EXERCISE_TAG in _tags(cells[-1])):
                cells.append(_stub_cell(last_exercise))
            removed_code = False
            in_span = in_span_after
            last_exercise = labels[-1] if labels else last_exercise
            if new.strip():
                cell["source"] = new + "\n" if source.endswith("\n") else new
                cells.append(cell)
            continue
        if SOLUTION_TAG in _tags(cell) or (in_span and EXERCISE_TAG not in _tags(cell)):
            removed_code = removed_code or cell["cell_type"] == "code"
            continue
        if removed_code and EXERCISE_TAG not in _tags(cell) and not (cells and EXERCISE_TAG in _tags(cells[-1])):
            cells.append(_stub_cell(last_exercise))
        removed_code = False
        cells.append(cell)
    if removed_code and not (cells and EXERCISE_TAG in _tags(cells[-1])):
        cells.append(_stub_cell(last_exercise))
    nb["cells"] = cells if stubs else [c for c in cells if not c.get("id", "").startswith("stub-")]
    return nb


def write_notebooks(root: Path, out: Path, source_dir: Path | None = None) -> list[Path]:
    """Write the student notebooks of every toc notebook to ``out``, keeping their paths relative to ``root``.

    ``source_dir`` (e.g. ``_build/jupyter_execute``) takes the notebooks from there instead, outputs and all.
    """
    written = []
    for path in chapter_notebooks(root):
        rel = path.relative_to(root)
        src = (source_dir / rel) if source_dir else path
        if not src.is_file():
            raise FileNotFoundError(f"No executed notebook at {src}. Build the book first "
                                    "(`jupyter-book build . --all`), then make the student edition.")
        nb = strip_notebook(json.loads(src.read_text()), stubs=source_dir is None)
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        written.append(dest)
    return written


def solution_text_left(text: str) -> list[str]:
    """The solution markers still present in ``text`` (empty for a clean student edition)."""
    return [m for m in SOLUTION_MARKERS if m in text]


def build_book(root: Path, out: Path, builder_args: list[str] | None = None) -> int:
    """Build the student book in ``out/_build/html`` from the main build's executed notebooks; never executes."""
    executed = root / "_build" / "jupyter_execute"
    if not executed.is_dir():
        raise FileNotFoundError(f"{executed} does not exist: build the book first (`jupyter-book build . --all`); "
                                "the student book reuses its executed notebooks and runs nothing again.")
    src = out / "book-source"
    if src.exists():
        shutil.rmtree(src)
    # The book's own sources: config, toc, and every top-level folder the toc or the config reads.
    needed = {Path(f).parts[0] for f in toc_files(root)} | {"book"}
    for name in sorted(needed - _NOT_BOOK):
        if (root / name).is_dir():
            shutil.copytree(root / name, src / name,
                            ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__"))
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, src / name)
    for md in src.rglob("*.md"):
        md.write_text(strip_markdown(md.read_text())[0] + "\n")
    write_notebooks(root, src, source_dir=executed)
    config = yaml.safe_load((src / "_config.yml").read_text())
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    config["title"] = f"{config.get('title', 'Book')} (student edition)"
    config.setdefault("sphinx", {}).setdefault("config", {})["hide_solutions"] = True
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    html = out / "_build"
    if html.exists():
        shutil.rmtree(html)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.is_file() else (shutil.which("jupyter-book") or "jupyter-book"),
           "build", str(src), "--path-output", str(out), "--all",
           *(builder_args if builder_args is not None else ["-W", "-n", "--keep-going"])]
    print("running:", " ".join(cmd), flush=True)
    rc = subprocess.call(cmd)
    if rc:
        return rc
    leaks = [str(p.relative_to(out)) for p in (out / "_build" / "html").rglob("*")
             if p.suffix in {".html", ".ipynb", ".md", ".txt"} and solution_text_left(p.read_text(errors="replace"))]
    leaks += [str(p.relative_to(out)) for p in (out / "_build" / "html").rglob("*.html")
              if re.search(r'class="[^"]*\bsolution\b', p.read_text(errors="replace"))]
    if leaks:
        print("error: solution text found in the student book: " + ", ".join(sorted(set(leaks))), file=sys.stderr)
        return 1
    print(f"student book written to {out / '_build' / 'html' / 'index.html'}")
    return 0


def main(root: Path, out: Path, book: bool = False) -> int:
    """The ``student-edition`` command: notebooks to ``out/chapters``, and with ``book`` the HTML too."""
    root, out = root.resolve(), out.resolve()
    written = write_notebooks(root, out)
    for path in written:
        leaks = solution_text_left(path.read_text())
        if leaks:
            print(f"error: {path} still contains {leaks}", file=sys.stderr)
            return 1
    print(f"wrote {len(written)} student notebooks to {out}")
    return build_book(root, out) if book else 0
