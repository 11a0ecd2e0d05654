"""The house rules of the package, checked: two rooms, a map, declared dependencies, labels that exist, short modules."""
import ast
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest

import gan_lib
from gan_lib.machinery.toc import chapter_notebooks

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gan_lib"
CONCEPTS = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
MACHINERY = sorted(p.stem for p in (PACKAGE / "machinery").glob("*.py") if p.stem != "__init__") + ["checks"]
MACHINERY_FILES = sorted((PACKAGE / "machinery").rglob("*.py"))
TOP = {"cli"}  # the command line sits on top of both rooms


def _imports(path: Path) -> set[str]:
    """Every gan_lib module a file imports, as a dotted name (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    package = ["gan_lib", *path.parent.relative_to(PACKAGE).parts]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("gan_lib")}


@pytest.mark.parametrize("module", sorted(set(CONCEPTS) - TOP))
def test_no_concept_module_imports_the_machinery(module):
    bad = [m for m in _imports(PACKAGE / f"{module}.py") if m.startswith("gan_lib.machinery")]
    assert not bad, f"gan_lib/{module}.py imports {bad}: the concepts must not depend on the book's machinery"


def test_the_package_docstring_is_the_map_of_both_rooms():
    doc = gan_lib.__doc__
    missing = [m for m in CONCEPTS if f"``{m}``" not in doc]
    assert not missing, f"gan_lib's docstring does not list {missing}"
    import gan_lib.machinery as machinery
    missing = [m for m in MACHINERY if f"``{m}``" not in machinery.__doc__]
    assert not missing, f"gan_lib.machinery's docstring does not list {missing}"
    assert "gan_lib.machinery" in doc


def test_every_machinery_module_says_it_is_machinery():
    for path in MACHINERY_FILES:
        first = ast.get_docstring(ast.parse(path.read_text())).splitlines()[0]
        assert first.startswith("Machinery:"), f"{path.relative_to(PACKAGE)}: its docstring should open with 'Machinery:'"


def test_every_third_party_import_is_a_declared_dependency():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~ \[]", d)[0].lower() for d in declared}
    import_name = {"pyyaml": "yaml"}
    names = {import_name.get(n, n) for n in names}
    used = set()
    for path in [*PACKAGE.glob("*.py"), *MACHINERY_FILES]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                used.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                used.add(node.module.split(".")[0])
    third_party = {m for m in used if m not in sys.stdlib_module_names and m != "gan_lib"}
    assert third_party <= names, f"imported but not declared in pyproject.toml: {sorted(third_party - names)}"


@pytest.mark.parametrize("path", [*PACKAGE.glob("*.py"), *MACHINERY_FILES], ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_much_over_300_lines(path):
    assert len(path.read_text().splitlines()) <= 330, f"{path.name}: split it (one idea per module)"


def _chapter_labels() -> set[str]:
    labels = set()
    for nb in chapter_notebooks(ROOT):
        text = "\n".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"])
        labels |= set(re.findall(r"\$\$\s*\(([\w-]+)\)", text))
        labels |= set(re.findall(r"^\(([\w-]+)\)=", text, re.M))
    return labels


def test_docstrings_cite_equations_by_labels_that_exist():
    labels, missing, numbered = _chapter_labels(), [], []
    files = [*PACKAGE.glob("*.py"), *MACHINERY_FILES, *(ROOT / "benchmarks").glob("*.py")]
    for path in files:
        text = path.read_text()
        for group in re.findall(r"Eqs?\. ((?:\([\w.-]+\)(?:\s*(?:-|,|and)\s*)?)+)", text):
            for label in re.findall(r"\(([\w.-]+)\)", group):
                if re.fullmatch(r"\d+\.\d+", label):
                    numbered.append(f"{path.name}: Eq. ({label})")
                elif label and label not in labels:
                    missing.append(f"{path.name}: Eq. ({label})")
    assert not numbered, f"cite equations by label, not number (numbers move): {numbered}"
    assert not missing, f"cited labels that no chapter defines: {missing}"


def test_chapters_import_only_concepts_and_the_machinerys_entry_points():
    import gan_lib.machinery as machinery
    allowed = {f"gan_lib.{m}" for m in CONCEPTS} | {"gan_lib", "gan_lib.machinery"}
    allowed |= {f"gan_lib.machinery.{name}" for name in machinery.__all__}
    for nb in chapter_notebooks(ROOT):
        for cell in json.loads(nb.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            for module in re.findall(r"^\s*from (gan_lib[\w.]*) import", source, re.M):
                assert module in allowed, f"{nb.name} imports from {module}: use a concept module or gan_lib.machinery"
            for names in re.findall(r"^\s*from gan_lib\.machinery import (.+)$", source, re.M):
                for name in re.split(r",\s*", names.strip("()")):
                    assert name.strip() in machinery.__all__, f"{nb.name} imports {name} from gan_lib.machinery"


def test_every_module_has_its_test_file():
    missing = [f"tests/test_{m}.py" for m in CONCEPTS if not (ROOT / "tests" / f"test_{m}.py").is_file()]
    for path in MACHINERY_FILES:
        if path.stem == "__init__":
            continue
        name = path.stem if path.parent.name == "machinery" else f"{path.parent.name}_{path.stem}"
        name = "checks" if name == "checks_core" else name
        if not (ROOT / "tests" / "machinery" / f"test_{name}.py").is_file():
            missing.append(f"tests/machinery/test_{name}.py")
    assert not missing, f"modules without their test file: {missing}"
