"""Machinery: the hidden first code cell that lets a chapter run in Google Colab.

Colab has torch, torchvision, NumPy, SciPy and Matplotlib already, so the cell installs
only gan_lib itself (``--no-deps``: reinstalling the pinned CUDA build of torch would
download several GB). Locally, under nbval and in the book build the cell does nothing.
The book hides it (tag ``remove-cell``). The repository address comes from the one
setting ``repository.url`` in ``_config.yml``: after changing it, run
``python -m gan_lib colab-cells`` to rewrite the cells.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

TAG = "colab-install"


def install_cell_source(repository_url: str) -> str:
    """The code of the cell for a repository at ``repository_url``."""
    return (
        "# Google Colab only: install the book's library (not torch: Colab has it). Does nothing elsewhere.\n"
        "import sys\n"
        "if \"google.colab\" in sys.modules:\n"
        "    import subprocess\n"
        f"    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", \"--no-deps\",\n"
        f"                    \"git+{repository_url}\"], check=True)"
    )


def repository_url(config: Path) -> str:
    """``repository.url`` from the book's ``_config.yml`` (read without a YAML dependency)."""
    match = re.search(r"^repository:\s*\n(?:\s+.*\n)*?\s+url:\s*(\S+)", config.read_text(), re.MULTILINE)
    if not match:
        raise ValueError(f"{config} has no repository.url setting; add one (see README.md, 'Publishing').")
    return match.group(1)


def update_notebooks(root: Path) -> list[Path]:
    """Put (or refresh) the install cell before the first code cell of every chapter; return the changed files."""
    source = install_cell_source(repository_url(root / "_config.yml"))
    changed = []
    for path in sorted((root / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        existing = [c for c in nb.cells if TAG in c.get("metadata", {}).get("tags", [])]
        if existing and existing[0].source == source:
            continue
        if existing:
            existing[0].source = source
        else:
            cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["remove-cell", TAG]})
            first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
            nb.cells.insert(first_code, cell)
        nbformat.write(nb, path)
        changed.append(path)
    return changed
