"""Serve MathJax 3 from the built book itself, so math renders with no network.

MathJax comes from the ``django-static-mathjax`` package on PyPI (installed by
requirements.txt); nothing third-party is committed. At build time the files a
book needs (the tex-mml-chtml component, TeX extensions, CHTML fonts, menu and
accessibility modules, about 3 MB) are copied into the HTML output's
``_static/mathjax`` and ``mathjax_path`` points there instead of a CDN.
"""
from __future__ import annotations

import shutil
from pathlib import Path

NEEDED = ["tex-mml-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2", "ui", "a11y"]


def _source() -> Path:
    try:
        import mathjax  # the django-static-mathjax distribution
    except ImportError as err:
        raise RuntimeError(
            "MathJax 3 is not installed: run `pip install -r requirements.txt` "
            "(it brings django-static-mathjax) before building the book."
        ) from err
    src = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (src / "tex-mml-chtml.js").is_file():
        raise RuntimeError(f"MathJax files not found under {src}; reinstall django-static-mathjax.")
    return src


def _copy(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    src, dest = _source(), Path(app.outdir) / "_static" / "mathjax"
    for rel in NEEDED:
        s, d = src / rel, dest / rel
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True)
        else:
            shutil.copy2(s, d)
    shutil.copy2(src.parent / "LICENSE", dest / "LICENSE")


def _use_local_mathjax(app, config) -> None:
    config.mathjax_path = "mathjax/tex-mml-chtml.js"  # relative to the build's _static


def setup(app):
    _source()  # fail early, with the fix, if MathJax is missing
    app.connect("config-inited", _use_local_mathjax)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
