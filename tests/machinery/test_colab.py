"""gan_lib.machinery.colab: the hidden install cell, one per chapter, matching the repository setting."""
import json
import shutil
from pathlib import Path

import pytest

from gan_lib.machinery import colab

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_matches_the_repository_setting(path):
    nb = json.loads(path.read_text())
    cells = [c for c in nb["cells"] if colab.TAG in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "run `python -m gan_lib colab-cells` to add the hidden Colab install cell"
    assert "remove-cell" in cells[0]["metadata"]["tags"]
    expected = colab.install_cell_source(colab.repository_url(ROOT / "_config.yml"))
    assert "".join(cells[0]["source"]) == expected, "repository.url changed: run `python -m gan_lib colab-cells`"


def test_install_cell_installs_only_gan_lib_and_only_in_colab():
    source = colab.install_cell_source("https://example.org/book")
    assert '"google.colab" in sys.modules' in source and "--no-deps" in source
    assert "git+https://example.org/book" in source


def test_update_notebooks_writes_once_and_then_leaves_them(tmp_path):
    (tmp_path / "chapters").mkdir()
    shutil.copy(NOTEBOOKS[0], tmp_path / "chapters" / NOTEBOOKS[0].name)
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://example.org/other\n")
    assert len(colab.update_notebooks(tmp_path)) == 1
    assert colab.update_notebooks(tmp_path) == []
    nb = json.loads((tmp_path / "chapters" / NOTEBOOKS[0].name).read_text())
    cells = [c for c in nb["cells"] if colab.TAG in c["metadata"].get("tags", [])]
    assert len(cells) == 1 and "example.org/other" in "".join(cells[0]["source"])


def test_missing_repository_setting_is_named(tmp_path):
    (tmp_path / "_config.yml").write_text("title: x\n")
    with pytest.raises(ValueError, match="repository.url"):
        colab.repository_url(tmp_path / "_config.yml")
