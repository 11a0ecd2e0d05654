"""Every chapter is stored clean, runs on the python3 kernel, and is listed in the table of contents."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))


def test_there_are_chapters():
    assert NOTEBOOKS, "no notebooks found in chapters/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean_and_listed(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert not [c for c in code if c.get("outputs") or c.get("execution_count")], "store notebooks without outputs"
    assert any("assert" in "".join(c["source"]) for c in code), "a chapter must check its claims"
    first = "".join(nb["cells"][0]["source"])
    assert re.match(r"# [A-Z]", first), "a chapter opens with its title as the only level-1 heading"
    assert "learning objectives" in "".join("".join(c["source"]) for c in nb["cells"][:4]).lower()
    toc = (ROOT / "_toc.yml").read_text()
    assert f"file: chapters/{path.stem}" in toc, f"{path.name} is not listed in _toc.yml"
    assert "sys.path" not in "".join("".join(c["source"]) for c in code)
