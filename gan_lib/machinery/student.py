"""Machinery: the student edition: the chapters without their solutions, as notebooks and as a book.

``python -m gan_lib student-edition OUT`` writes ``OUT/chapters/*.ipynb``: every chapter listed in ``_toc.yml``
with each cell tagged ``solution`` removed, and the text of every ``{solution}`` directive (and of every
``{solution-start}`` ... ``{solution-end}`` span, cells included) removed from the markdown. The exercises and
the cells tagged ``exercise`` (the stubs a student fills in) and ``exercise-check`` (their checks) stay.

The notebooks are for plain Jupyter and Colab, which do not render MyST, so their markdown is made plain
(``myst.plain_markdown``): an exercise reads "**Exercise 2.1** (label)" and its text, equations carry the
numbers the HTML shows, citations read "Goodfellow et al. [2014]". After each exercise tagged
``exercise-written`` comes a markdown cell "**Your answer.**". Where an untagged exercise's solution code is
removed and the chapter gives no stub, an empty code cell tagged ``exercise`` takes its place.

``--book`` also builds ``OUT/_build/html`` from the notebooks the main build already executed
(``_build/jupyter_execute``), with the same cells and text removed and ``execute_notebooks: off``: nothing is
executed a second time, and the build is as strict as the main one (``-W -n --keep-going``). The book's
launch (Colab, Binder) and repository buttons would open the repository's chapters, solutions and all, so the
student book has none, unless a repository of the student notebooks is given (``StudentRepository``: the
command's ``--repository-url``, ``--branch``, ``--path-to-book``); then they open the student notebooks there.
The build fails if any page still links to the book's own repository.
"""
from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from .exercises import KINDS
from .myst import FENCE as _FENCE, PlainMarkdown, book_index, closes as _closes
from .toc import chapter_notebooks, toc_files

SOLUTION_TAG = "solution"
EXERCISE_TAG = "exercise"
ANSWER_TEXT = "**Your answer.**"
# Lines whose text means "this is solution material": the student edition must contain none.
SOLUTION_MARKERS = ("{solution}", "{solution-start}", "{solution-end}")
# Top-level names that are never sources of a book (copied for --book only if the toc needs them).
_NOT_BOOK = {".git", ".venv", "venv", "_build", "tests", "gan_lib", "benchmarks", ".ci", "student_edition",
             ".pytest_cache", "data", "node_modules", ".binder", "binder"}


@dataclass(frozen=True)
class StudentRepository:
    """Where the student notebooks are published: the student book's launch and repository buttons open them."""
    url: str
    branch: str = "main"
    path_to_book: str = ""


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
    return set(cell.get("metadata", {}).get("tags", []) or [])


def _stub_cell(label: str | None) -> dict:
    source = f"# Exercise {label}: your answer here.\n" if label else "# Your answer here.\n"
    return {"cell_type": "code", "execution_count": None, "id": f"stub-{label or 'exercise'}",
            "metadata": {"tags": [EXERCISE_TAG]}, "outputs": [], "source": source}


def _answer_cell(label: str | None) -> dict:
    return {"cell_type": "markdown", "id": f"answer-{label or 'exercise'}"[:64],
            "metadata": {"tags": ["exercise-answer"]}, "source": ANSWER_TEXT + "\n"}


def strip_notebook(nb: dict, stubs: bool = True, markdown=None) -> dict:
    """A copy of notebook ``nb`` (nbformat 4 JSON) without its solutions; see the module docstring.

    ``stubs=False`` adds no cells (no empty exercise cells, no answer cells: the student *book* has no use for
    them). ``markdown``, if given, converts each kept markdown cell's text (e.g. ``myst.PlainMarkdown``).
    """
    nb = copy.deepcopy(nb)
    cells: list[dict] = []
    in_span = False
    last_exercise: str | None = None
    tagged = False  # the last exercise carries one of the convention's tags: it has its own answer cells
    removed_code = False  # solution code was removed since the last kept cell

    def add_stub_if_needed(next_is_stub: bool = False) -> None:
        if removed_code and not tagged and not next_is_stub and not (cells and EXERCISE_TAG in _tags(cells[-1])):
            cells.append(_stub_cell(last_exercise))

    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            labels = re.findall(r"\{exercise(?:-start)?\}[^\n]*\n(?:[^\n]*\n)*?\s*:label:\s*(\S+)", source)
            new, in_span_after = strip_markdown(source, in_span)
            add_stub_if_needed()
            removed_code = False
            in_span = in_span_after
            if labels or re.search(r"\{exercise(?:-start)?\}", source):
                last_exercise = labels[-1] if labels else None
                tagged = bool(_tags(cell) & set(KINDS))
            if new.strip():
                new = markdown(new) if markdown else new
                cell["source"] = new + "\n" if source.endswith("\n") else new
                cells.append(cell)
            if stubs and "exercise-written" in _tags(cell):
                cells.append(_answer_cell(last_exercise))
            continue
        if SOLUTION_TAG in _tags(cell) or (in_span and not _tags(cell) & {EXERCISE_TAG, "exercise-check"}):
            removed_code = removed_code or cell["cell_type"] == "code"
            continue
        add_stub_if_needed(next_is_stub=EXERCISE_TAG in _tags(cell))
        removed_code = False
        cells.append(cell)
    add_stub_if_needed()
    nb["cells"] = cells if stubs else [c for c in cells if not c.get("id", "").startswith("stub-")]
    return nb


def write_notebooks(root: Path, out: Path, source_dir: Path | None = None) -> list[Path]:
    """Write the student notebooks of every toc notebook to ``out``, keeping their paths relative to ``root``.

    ``source_dir`` (e.g. ``_build/jupyter_execute``) takes the notebooks from there instead, outputs and all,
    for the book: their markdown stays MyST (the book renders it). Without it the markdown is made plain.
    """
    written = []
    index = book_index(root) if source_dir is None else None
    for path in chapter_notebooks(root):
        rel = path.relative_to(root)
        src = (source_dir / rel) if source_dir else path
        if not src.is_file():
            raise FileNotFoundError(f"No executed notebook at {src}. Build the book first "
                                    "(`jupyter-book build . --all`), then make the student edition.")
        plain = PlainMarkdown(index, index.chapters.get(rel.with_suffix("").as_posix())) if index else None
        nb = strip_notebook(json.loads(src.read_text()), stubs=source_dir is None, markdown=plain)
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        written.append(dest)
    return written


def solution_text_left(text: str) -> list[str]:
    """The solution markers still present in ``text`` (empty for a clean student edition)."""
    return [m for m in SOLUTION_MARKERS if m in text]


def student_config(config: dict, repository: StudentRepository | None = None) -> dict:
    """The student book's ``_config.yml``: nothing executed, solutions hidden, and no button to the solutions.

    Without ``repository`` the launch (Colab, Binder, JupyterHub, Thebe) and the repository, issues and edit
    buttons are turned off; with it they open the student notebooks in that repository.
    """
    config = copy.deepcopy(config)
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    config["title"] = f"{config.get('title', 'Book')} (student edition)"
    config.setdefault("sphinx", {}).setdefault("config", {})["hide_solutions"] = True
    html = config.setdefault("html", {})
    if repository is None:
        html.update(use_repository_button=False, use_issues_button=False, use_edit_page_button=False)
        launch = config.setdefault("launch_buttons", {})
        launch.update(binderhub_url="", colab_url="", jupyterhub_url="", thebe=False)
        config["repository"] = {"url": "", "path_to_book": "", "branch": "main"}
    else:
        config["repository"] = {"url": repository.url, "path_to_book": repository.path_to_book,
                                "branch": repository.branch}
        html.update(use_issues_button=False, use_edit_page_button=False)
    return config


def _repository_path(url: str) -> str:
    """'owner/name' of a repository URL (or the URL itself when it is not of that form)."""
    match = re.match(r"^(?:https?://)?[^/]+/([^/]+/[^/#?]+?)(?:\.git)?/?$", url.strip())
    return match[1] if match else url.strip()


def links_to_repository(html_dir: Path, url: str) -> list[str]:
    """The pages of ``html_dir`` with a link (href) into the repository at ``url``."""
    if not url:
        return []
    needle = _repository_path(url)
    found = []
    for page in html_dir.rglob("*.html"):
        hrefs = re.findall(r'href="([^"]*)"', page.read_text(errors="replace"))
        if any(needle in href for href in hrefs):
            found.append(str(page.relative_to(html_dir)))
    return sorted(found)


def _refuse_the_books_repository(book_url: str, repository: StudentRepository | None) -> None:
    if repository and book_url and _repository_path(repository.url) == _repository_path(book_url):
        raise ValueError(f"--repository-url {repository.url} is the book's own repository, whose chapters hold the "
                         "solutions: give the repository of the student notebooks, or leave it out.")


def build_book(root: Path, out: Path, builder_args: list[str] | None = None,
               repository: StudentRepository | None = None) -> int:
    """Build the student book in ``out/_build/html`` from the main build's executed notebooks; never executes.

    ``repository``: where the student notebooks are published (see :func:`student_config`); by default the
    student book has no launch or repository buttons.
    """
    main_config = (yaml.safe_load((root / "_config.yml").read_text()) if (root / "_config.yml").is_file() else {}) or {}
    book_url = (main_config.get("repository") or {}).get("url", "")
    _refuse_the_books_repository(book_url, repository)
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
    (src / "_config.yml").write_text(yaml.safe_dump(student_config(main_config, repository), sort_keys=False))
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
    site = out / "_build" / "html"
    leaks = [str(p.relative_to(out)) for p in site.rglob("*")
             if p.suffix in {".html", ".ipynb", ".md", ".txt"} and solution_text_left(p.read_text(errors="replace"))]
    leaks += [str(p.relative_to(out)) for p in site.rglob("*.html")
              if re.search(r'class="[^"]*\bsolution\b', p.read_text(errors="replace"))]
    if leaks:
        print("error: solution text found in the student book: " + ", ".join(sorted(set(leaks))), file=sys.stderr)
        return 1
    to_book = links_to_repository(site, book_url)
    if to_book:
        print(f"error: {len(to_book)} student page(s) link to the book's repository {book_url}, whose chapters hold "
              f"the solutions: {', '.join(to_book[:5])}", file=sys.stderr)
        return 1
    where = (f"launch and repository buttons open {repository.url} (branch {repository.branch})" if repository
             else "no launch or repository buttons (give --repository-url to point them at the student notebooks)")
    print(f"student book written to {site / 'index.html'}; {where}")
    return 0


def main(root: Path, out: Path, book: bool = False, repository: StudentRepository | None = None) -> int:
    """The ``student-edition`` command: notebooks to ``out/chapters``, and with ``book`` the HTML too."""
    root, out = root.resolve(), out.resolve()
    if book and repository:
        config = yaml.safe_load((root / "_config.yml").read_text()) or {}
        _refuse_the_books_repository((config.get("repository") or {}).get("url", ""), repository)
    written = write_notebooks(root, out)
    for path in written:
        leaks = solution_text_left(path.read_text())
        if leaks:
            print(f"error: {path} still contains {leaks}", file=sys.stderr)
            return 1
    print(f"wrote {len(written)} student notebooks to {out}")
    return build_book(root, out, repository=repository) if book else 0
