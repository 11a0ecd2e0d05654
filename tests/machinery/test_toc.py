"""gan_lib.machinery.toc: the table of contents in reading order, and the chapters' notebooks."""
from pathlib import Path

from gan_lib.machinery.toc import chapter_notebooks, toc_files

ROOT = Path(__file__).resolve().parents[2]


def test_toc_files_in_reading_order(tmp_path):
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nparts:\n  - caption: A\n    chapters:\n"
                                       "      - file: chapters/01_a\n      - file: chapters/02_b\n        sections:\n"
                                       "          - file: chapters/02_b_more\n  - caption: B\n    chapters:\n"
                                       "      - file: back\n")
    assert toc_files(tmp_path) == ["intro", "chapters/01_a", "chapters/02_b", "chapters/02_b_more", "back"]


def test_every_chapter_notebook_is_in_the_book_in_order():
    notebooks = chapter_notebooks(ROOT)
    assert notebooks == sorted(notebooks) and notebooks[0].name.startswith("01_")
    assert set(notebooks) == set((ROOT / "chapters").glob("*.ipynb"))
