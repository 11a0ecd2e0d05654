"""Machinery: the book's table of contents (``_toc.yml``), read by the student edition, the tests and the benchmarks."""
from __future__ import annotations

from pathlib import Path

import yaml


def toc_files(root: Path) -> list[str]:
    """Every file of ``_toc.yml``, in reading order, as written there (no suffix)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)
    walk(toc)
    return files


def chapter_notebooks(root: Path) -> list[Path]:
    """The notebooks of the table of contents, in order."""
    return [root / f"{f}.ipynb" for f in toc_files(root) if (root / f"{f}.ipynb").is_file()]
