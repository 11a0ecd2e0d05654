"""Root pytest configuration: a bare `pytest` runs the unit tests and every chapter at the "smoke" budget.

Notebook kernels inherit this process's environment, so every cell of every chapter still runs and every
math check still asserts, but training is a few steps long. Set GAN_BOOK_BUDGET=cpu (or gpu, full) to run the
chapters at a real budget under pytest; the book build (`jupyter-book build`) uses the default budget.
"""
import os

os.environ.setdefault("GAN_BOOK_BUDGET", "smoke")
os.environ.setdefault("GAN_BOOK_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")


from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A chapter cell that writes to stderr fails here, as it fails the strict book build (mystnb.stderr).
    Only chapters: the exercise fixture warns on purpose (a check must survive a warning)."""
    result = yield
    in_chapters = Path(str(item.fspath)).parent == Path(__file__).parent / "chapters"
    errors = [out.get("text", "") for out in (getattr(item, "test_outputs", None) or ()) if in_chapters
              and out.get("output_type") == "stream" and out.get("name") == "stderr"]
    if errors:
        pytest.fail("this cell wrote to stderr (the strict build fails on it): " + "".join(errors)[:2000],
                    pytrace=False)
    return result
