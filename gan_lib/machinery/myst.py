"""Machinery: the book's MyST markdown made plain Markdown, for notebooks opened in Jupyter, Colab or nbgrader.

The HTML book renders MyST; plain Jupyter shows its directives and roles as raw text. :func:`plain_markdown`
turns a markdown cell into what the HTML shows, with the numbers the HTML gives:

* an ``{exercise}`` directive becomes ``**Exercise N.k** (label)`` and its text; admonitions (``{note}`` ...)
  become ``**Note.**`` and their text;
* a labelled equation ``$$ ... $$ (label)`` gets ``\\tag{N.k}``, and ``{eq}`label``` becomes ``(N.k)``;
* ``{cite:p}`key``` becomes ``[Author et al., 2014]`` and ``{cite:t}`key``` ``Author et al. [2014]``
  (author and year from the bibliography, as the HTML's author-year style prints them);
* ``{ref}`` becomes the target's title (a section's heading, "Exercise N.k"), ``{doc}`` the page's title,
  and a target line ``(label)=`` goes.

Numbers are per chapter, as in the HTML: the chapter's number is its place in the numbered part of
``_toc.yml``, and equations (and exercises) count in the order they appear in the chapter.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# A MyST directive opens with a fence of 3+ backticks or colons followed by {name}.
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|:{3,})\s*\{(?P<name>[a-z-]+)\}(?P<arg>[^\n]*)$")
_EQUATION = re.compile(r"\$\$(?P<body>(?:(?!\$\$).)+?)\$\$[ \t]*\((?P<label>[\w.:-]+)\)", re.S)
_TARGET = re.compile(r"^\((?P<label>[\w.:-]+)\)=[ \t]*$", re.M)
_ROLE = re.compile(r"\{(?P<role>[a-z:-]+)\}`(?P<body>[^`]*)`")
_ADMONITIONS = {"note", "warning", "tip", "important", "hint", "caution", "attention", "danger", "error",
                "seealso", "admonition"}


def closes(line: str, fence: str) -> bool:
    """Does ``line`` close a directive opened with ``fence``?"""
    stripped = line.strip()
    return bool(stripped) and set(stripped) == {fence[0]} and len(stripped) >= len(fence)


def directive_options(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """The ``:name: value`` options at the top of a directive's body, and the rest of the body."""
    options, i = {}, 0
    while i < len(lines) and re.match(r"^\s*:[\w-]+:", lines[i]):
        name, _, value = lines[i].strip()[1:].partition(":")
        options[name] = value.strip()
        i += 1
    return options, lines[i:]


def cell_text(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@dataclass
class BookIndex:
    """What the HTML numbers and titles: equations, exercises, section targets, page titles, the bibliography."""
    equations: dict[str, str] = field(default_factory=dict)   # label -> "2.4"
    exercises: dict[str, str] = field(default_factory=dict)   # label -> "2.1"
    targets: dict[str, str] = field(default_factory=dict)     # label -> section title
    titles: dict[str, str] = field(default_factory=dict)      # doc path without suffix -> page title
    chapters: dict[str, int] = field(default_factory=dict)    # doc path without suffix -> chapter number
    bib: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (authors, year)

    def add_document(self, doc: str, markdown: list[str], number: int | None) -> None:
        """Number and title one document's markdown cells (``number`` None: an unnumbered page)."""
        if number is not None:
            self.chapters[doc] = number
        text = "\n\n".join(markdown)
        heading = re.search(r"^#\s+(.+)$", text, re.M)
        if heading:
            self.titles[doc] = heading[1].strip()
        prefix = f"{number}." if number is not None else ""
        for k, match in enumerate(_EQUATION.finditer(text), start=1):
            self.equations.setdefault(match["label"], f"{prefix}{k}")
        for k, label in enumerate(exercise_labels(text), start=1):
            if label:
                self.exercises.setdefault(label, f"{prefix}{k}")
        for match in _TARGET.finditer(text):
            after = text[match.end():].lstrip("\n").split("\n", 1)[0]
            self.targets.setdefault(match["label"], after.lstrip("#").strip() or match["label"])


def exercise_labels(text: str) -> list[str | None]:
    """The label of every ``{exercise}`` (or ``{exercise-start}``) directive in ``text``, in order (None: none)."""
    labels, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        match = FENCE.match(line)
        if match and match["name"] in ("exercise", "exercise-start"):
            body, j = [], i + 1
            while j < len(lines) and not closes(lines[j], match["fence"]):
                body.append(lines[j])
                j += 1
            options, _ = directive_options(body)
            labels.append(options.get("label"))
    return labels


def numbered_chapters(root: Path) -> dict[str, int]:
    """Doc path (as in ``_toc.yml``) -> chapter number, for the files of the toc's numbered parts."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    numbers: dict[str, int] = {}

    def walk(entries):
        for entry in entries or []:
            if isinstance(entry, dict) and "file" in entry:
                numbers[entry["file"]] = len(numbers) + 1
    for part in toc.get("parts", []) or []:
        if part.get("numbered"):
            walk(part.get("chapters"))
    return numbers


def _markdown_of(path: Path) -> list[str]:
    if path.suffix == ".ipynb":
        return [cell_text(c) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown"]
    return [path.read_text()]


def book_index(root: Path, extra: dict[Path, int] | None = None) -> BookIndex:
    """The index of the book at ``root`` (every file of ``_toc.yml``), plus ``extra`` notebooks and their numbers."""
    from .toc import toc_files
    index, numbers = BookIndex(), numbered_chapters(root)
    for doc in toc_files(root):
        for suffix in (".ipynb", ".md"):
            if (root / f"{doc}{suffix}").is_file():
                index.add_document(doc, _markdown_of(root / f"{doc}{suffix}"), numbers.get(doc))
                break
    for path, number in (extra or {}).items():
        index.add_document(path.with_suffix("").name, _markdown_of(path), number)
    config = yaml.safe_load((root / "_config.yml").read_text()) or {}
    for bibfile in config.get("bibtex_bibfiles", []) or []:
        if (root / bibfile).is_file():
            index.bib.update(parse_bib((root / bibfile).read_text()))
    return index


def _entries(text: str):
    """(key, fields) of each entry of a BibTeX file, fields lower-cased, values with their outer braces gone."""
    for match in re.finditer(r"@\w+\s*\{\s*([^,\s]+)\s*,", text):
        i, depth, fields, start = match.end(), 1, {}, match.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        for name, value in re.findall(r"(\w+)\s*=\s*(\{(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}|\"[^\"]*\"|\d+)",
                                      text[start:i - 1]):
            fields[name.lower()] = value[1:-1] if value[0] in "{\"" else value
        yield match[1], fields


_ACCENTS = {"'": "\u0301", "`": "\u0300", '"': "\u0308", "^": "\u0302", "~": "\u0303", "c": "\u0327"}


def _detex(text: str) -> str:
    import unicodedata
    text = re.sub(r"\\([`'\"^~c])\s*\{?([A-Za-z])\}?", lambda m: m[2] + _ACCENTS[m[1]], text)
    text = re.sub(r"\\[A-Za-z]+\s*", "", text)
    return unicodedata.normalize("NFC", text.replace("{", "").replace("}", "")).strip()


def _split_authors(authors: str) -> list[str]:
    names, depth, current = [], 0, ""
    for token in re.split(r"(\{|\}|\s+and\s+)", authors):
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        if depth == 0 and re.fullmatch(r"\s+and\s+", token or ""):
            names.append(current)
            current = ""
        else:
            current += token or ""
    return [n for n in [*names, current] if n.strip()]


def _surname(name: str) -> str:
    name = name.strip()
    if name.startswith("{") and name.endswith("}"):
        return _detex(name)
    if "," in name:
        return _detex(name.split(",")[0])
    return _detex(name.split()[-1])


def parse_bib(text: str) -> dict[str, tuple[str, str]]:
    """key -> ("Goodfellow et al.", "2014") for every entry of a BibTeX file."""
    out = {}
    for key, fields in _entries(text):
        names = [_surname(n) for n in _split_authors(fields.get("author", fields.get("editor", "")))]
        who = (names[0] if len(names) == 1 else f"{names[0]} and {names[1]}" if len(names) == 2 else
               f"{names[0]} et al." if names else _detex(fields.get("title", key)))
        out[key] = (who, _detex(fields.get("year", "n.d.")))
    return out


def _role(match: re.Match, index: BookIndex) -> str:
    role, body = match["role"], match["body"]
    text, _, target = body.partition("<") if body.endswith(">") else (body, "", "")
    text, target = text.strip(), target.rstrip(">").strip() or body.strip()
    if role == "eq":
        return f"({index.equations.get(target, target)})"
    if role in ("cite:p", "cite:t", "cite", "cite:ps", "cite:ts"):
        keys = [k.strip() for k in body.split(",") if k.strip()]
        found = [index.bib.get(k, (k, "n.d.")) for k in keys]
        if role.startswith("cite:t"):
            return ", ".join(f"{who} [{year}]" for who, year in found)
        return "[" + "; ".join(f"{who}, {year}" for who, year in found) + "]"
    if role in ("ref", "numref"):
        if text != target or body.endswith(">") and text:
            return text
        if target in index.exercises:
            return f"Exercise {index.exercises[target]}"
        if target in index.equations:
            return f"({index.equations[target]})"
        return index.targets.get(target, target)
    if role == "doc":
        if body.endswith(">") and text:
            return text
        name = target.split("/")[-1]
        title = next((t for doc, t in index.titles.items() if doc.split("/")[-1] == name), name)
        number = next((n for doc, n in index.chapters.items() if doc.split("/")[-1] == name), None)
        return f"Chapter {number}, {title}" if number else title
    return text or body  # {term}, {download}, {abbr} ...: their text


def _directives(text: str, exercise: list[int], chapter: int | None, index: BookIndex) -> str:
    """Exercise and admonition directives as bold headings and their text; other fences stay as they are."""
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        name = match["name"] if match else None
        if name not in {"exercise", "exercise-start", "exercise-end", *_ADMONITIONS}:
            out.append(lines[i])
            i += 1
            continue
        body, j = [], i + 1
        while j < len(lines) and not closes(lines[j], match["fence"]):
            body.append(lines[j])
            j += 1
        i = j + 1
        options, content = directive_options(body)
        title = match["arg"].strip()
        if name == "exercise-end":
            continue
        if name in ("exercise", "exercise-start"):
            exercise[0] += 1
            label = options.get("label")
            number = index.exercises.get(label) if label else None
            number = number or (f"{chapter}.{exercise[0]}" if chapter is not None else str(exercise[0]))
            head = f"**Exercise {number}" + (f": {title}" if title else "") + "**" + (f" ({label})" if label else "")
        else:
            head = f"**{title or name.capitalize()}.**"
        out += [head, "", *_directives("\n".join(content), exercise, chapter, index).splitlines()]
    return "\n".join(out)


class PlainMarkdown:
    """Converts the markdown cells of one document, in order (it counts the document's exercises)."""

    def __init__(self, index: BookIndex, chapter: int | None = None):
        self.index, self.chapter, self._exercise = index, chapter, [0]

    def __call__(self, text: str) -> str:
        index = self.index
        text = _directives(text, self._exercise, self.chapter, index)
        text = _EQUATION.sub(lambda m: f"$${m['body'].rstrip()} \\tag{{{index.equations.get(m['label'], m['label'])}}}"
                             + ("\n$$" if "\n" in m["body"] else "$$"), text)
        text = _TARGET.sub("", text)
        text = _ROLE.sub(lambda m: _role(m, index), text)
        return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def plain_markdown(text: str, index: BookIndex, chapter: int | None = None) -> str:
    """One markdown cell's MyST as plain Markdown (see the module docstring); exercises count from 1."""
    return PlainMarkdown(index, chapter)(text)
