"""How long does each chapter take? Measured, not guessed: every chapter of ``_toc.yml`` is executed, in order,
top to bottom in a fresh ``python3`` kernel (as the book build and a reader do), and its wall time recorded.

The table goes to ``book/_chapter_times.md``, which the instructors' guide includes, and to the screen:

    python benchmarks/chapter_times.py                          # the machine's default budget (cpu or gpu)
    GAN_BOOK_BUDGET=smoke python benchmarks/chapter_times.py --out /tmp/times.md   # a quick check of the script

Run it on an otherwise idle machine, after ``python -m gan_lib cache warm`` (chapters that load a shared model
train it first when the cache is cold, and that time would be counted). Nothing is written if a chapter fails.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

from gan_lib.machinery.budgets import budget
from gan_lib.runtime import describe, pick_device
from gan_lib.machinery.toc import chapter_notebooks

ROOT = Path(__file__).resolve().parents[1]


def title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def run_chapter(path: Path, timeout: int) -> float:
    """Execute one notebook in a fresh kernel, in its own folder; return wall seconds."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def table(rows: list[tuple[str, str, float]], device: str, budget_name: str) -> str:
    total = sum(seconds for _, _, seconds in rows)
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Measured {when} by `python benchmarks/chapter_times.py` at the **{budget_name}** budget on "
             f"{device} ({os.cpu_count()} logical CPUs, {platform.machine()}, Python {platform.python_version()}, "
             f"torch {torch.__version__}). Each chapter ran top to bottom in a fresh kernel.",
             "",
             "| chapter | title | seconds | minutes |",
             "|---|---|---:|---:|"]
    lines += [f"| `{name}` | {heading} | {seconds:.0f} | {seconds / 60:.1f} |" for name, heading, seconds in rows]
    lines.append(f"| **total** | | **{total:.0f}** | **{total / 60:.1f}** |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(ROOT / "book" / "_chapter_times.md"), help="Markdown file to write")
    p.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    args = p.parse_args(argv)
    # As in the book build: figures rendered inline (not by a forced non-interactive backend), no progress bars.
    os.environ.pop("MPLBACKEND", None)
    os.environ.setdefault("GAN_BOOK_PROGRESS", "0")
    device = pick_device()
    budget_name = budget(device).name
    print(f"{describe(device)}; budget {budget_name}", flush=True)
    rows = []
    for path in chapter_notebooks(ROOT):
        nb = nbformat.read(path, as_version=4)
        print(f"  {path.relative_to(ROOT)} ...", end=" ", flush=True)
        try:
            seconds = run_chapter(path, args.timeout)
        except Exception as err:  # a failing chapter: say which, write nothing
            print(f"FAILED\n{type(err).__name__}: {str(err)[-2000:]}", file=sys.stderr)
            return 1
        print(f"{seconds:.0f} s", flush=True)
        rows.append((path.stem, title(nb), seconds))
    text = table(rows, describe(device), budget_name)
    Path(args.out).write_text(text)
    print("\n" + text + f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
