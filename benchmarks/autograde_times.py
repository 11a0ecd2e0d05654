"""How long does `nbgrader autograde` take per submission? Measured: the course is written
(``python -m gan_lib assignments``), each assignment generated, the reference solutions submitted as one student,
and each assignment autograded on its own, timed. The table goes to ``book/_autograde_times.md``, which the
instructors' guide includes, and to the screen:

    python benchmarks/autograde_times.py                 # every chapter with tagged exercises (about 6 minutes)
    python benchmarks/autograde_times.py --only ch02     # one assignment

Needs nbgrader (``pip install -e ".[course]"``). Run it on an otherwise idle machine. Nothing is written if an
assignment's reference solutions do not earn every code point.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gan_lib.machinery import assignments
from gan_lib.runtime import describe, pick_device

ROOT = Path(__file__).resolve().parents[1]


def nbgrader(course: Path, *args: str) -> None:
    exe = Path(sys.executable).with_name("nbgrader")
    done = subprocess.run([str(exe) if exe.is_file() else "nbgrader", *args], cwd=course, capture_output=True,
                          text=True)
    if done.returncode:
        raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{done.stderr[-2000:]}")


def answered(source: dict) -> dict:
    """The source notebook with its solution markers removed: what a student with every answer right submits."""
    for cell in source["cells"]:
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell["source"] = re.sub(r"^ *### (BEGIN|END) SOLUTION\n", "", text, flags=re.M)
    return source


def code_points(course: Path, aid: str) -> tuple[float, float]:
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(aid, aid, "reference")
        cells = [g for g in nb.grades if g.cell.__class__.__name__ == "GradeCell"]
        return sum(g.score for g in cells), sum(g.max_score for g in cells)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", default="", help="comma-separated assignments (ch02,ch09); default: all")
    p.add_argument("--out", default=str(ROOT / "book" / "_autograde_times.md"))
    args = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        written, _ = assignments.write_course(ROOT, course)
        for item in written:
            aid = item["assignment"]
            if args.only and aid not in args.only.split(","):
                continue
            nbgrader(course, "generate_assignment", aid, "--force")
            source = json.loads(item["path"].read_text())
            dest = course / "submitted" / "reference" / aid / f"{aid}.ipynb"
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(json.dumps(answered(source)))
            start = time.perf_counter()
            nbgrader(course, "autograde", aid, "--create", "--force")
            seconds = time.perf_counter() - start
            score, total = code_points(course, aid)
            print(f"{aid} ({item['chapter']}): {seconds:.0f} s, reference solutions {score:g} / {total:g} code points",
                  flush=True)
            if score != total:
                raise SystemExit(f"{aid}: the reference solutions earn {score:g} of {total:g} points; nothing written")
            rows.append((aid, item["chapter"], seconds, total))
    lines = ["| assignment | chapter | seconds per submission | code points |", "|---|---|---:|---:|"]
    lines += [f"| {a} | `{c}` | {s:.0f} | {t:g} |" for a, c, s, t in rows]
    note = (f"\nMeasured {dt.date.today().isoformat()} with `python benchmarks/autograde_times.py` on "
            f"{describe(pick_device())} ({platform.machine()}), the reference solutions as the submission, at the "
            "smoke budget that `nbgrader_config.py` sets; the time includes nbgrader's start-up.\n")
    Path(args.out).write_text("\n".join(lines) + "\n" + note)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
