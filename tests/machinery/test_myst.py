"""gan_lib.machinery.myst: the book's MyST made plain Markdown for Jupyter and Colab, numbered as the HTML numbers it."""
from pathlib import Path

from gan_lib.machinery.myst import BookIndex, book_index, exercise_labels, numbered_chapters, parse_bib, plain_markdown

ROOT = Path(__file__).resolve().parents[2]

CHAPTER = """# Losses

$$
L = -\\log D(x)
$$ (ch2-demo)

(ch2-target)=
## A section

Eq. {eq}`ch2-demo` and {ref}`ch2-target`, after {cite:t}`goodfellow2014gan`.

```{exercise}
:label: ch2-ex-one
Differentiate Eq. {eq}`ch2-demo`.
```
"""


def _index() -> BookIndex:
    index = BookIndex(bib=parse_bib("@article{goodfellow2014gan, author = {Goodfellow, Ian and Pouget-Abadie, Jean"
                                    " and Mirza, Mehdi}, year = {2014}, title = {Generative Adversarial Nets}}"))
    index.add_document("chapters/02_demo", [CHAPTER], 2)
    return index


def test_the_index_numbers_equations_exercises_and_titles():
    index = _index()
    assert index.equations == {"ch2-demo": "2.1"} and index.exercises == {"ch2-ex-one": "2.1"}
    assert index.targets == {"ch2-target": "A section"} and index.titles["chapters/02_demo"] == "Losses"
    assert index.bib["goodfellow2014gan"] == ("Goodfellow et al.", "2014")


def test_plain_markdown_renders_roles_equations_and_exercises():
    text = plain_markdown(CHAPTER, _index(), chapter=2)
    assert "\\tag{2.1}" in text and "(ch2-target)=" not in text
    assert "Eq. (2.1)" in text or "(2.1)" in text
    assert "Goodfellow et al." in text and "{cite:t}" not in text and "{eq}" not in text
    assert "**Exercise 2.1" in text and "```{exercise}" not in text


def test_exercise_labels_and_the_books_chapter_numbers():
    assert exercise_labels(CHAPTER) == ["ch2-ex-one"]
    assert exercise_labels("```{exercise}\nno label\n```") == [None]
    numbers = numbered_chapters(ROOT)
    assert numbers["chapters/01_generator"] == 1 and numbers["chapters/09_debugging"] == 9
    index = book_index(ROOT)
    assert index.equations and all(v.split(".")[0].isdigit() for v in index.equations.values())
