"""The book's command line: ``python -m gan_lib COMMAND ...``. It sits on top of both rooms of the package
(the concepts and the machinery); nothing imports it.

Examples::

    python -m gan_lib data
    python -m gan_lib train --dataset fashion-mnist --model mlp --steps 3000 --seed 0 --out ckpt.pt
    python -m gan_lib train --resume ckpt.pt --steps 1000 --out ckpt.pt
    python -m gan_lib sample ckpt.pt --n 10000 --out samples.pt
    python -m gan_lib evaluate samples.pt
    python -m gan_lib cache warm

Every error is one line that says what was wrong and what to do; the exit status is then 2.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from . import data
from .checkpoint import CheckpointError, load_gan, save_gan
from .models import CONDITIONAL_MODELS, MODELS
from .precision import bf16_autocast
from .runtime import describe, pick_device
from .train import Recipe, TrainingDiverged, new_gan, train


def cmd_data(args) -> int:
    status = 0
    for name in data.DATASETS:
        found, looked = data.locate(name)
        if found is not None:
            print(f"{name}: found in {found}")
            continue
        try:
            split = data.load_images(name, "test", download=not args.no_download)
            print(f"{name}: downloaded to {split.source}")
        except data.DataError as err:
            print(f"{name}: NOT FOUND.\n{err}\n")
            status = 1 if name == "fashion-mnist" else status
    return status


def cmd_train(args) -> int:
    from .machinery.budgets import budget
    from .machinery.recipes import BOOK, PLAIN
    device = pick_device()
    print(describe(device))
    precision = bf16_autocast(device) if args.bf16 else contextlib.nullcontext()   # refused first, if it must be
    if args.resume:
        gan = load_gan(args.resume, device)
        print(f"resuming {args.resume} at step {gan.step}")
    else:
        gan = new_gan(_recipe(args, BOOK if args.recipe == "book" else PLAIN), args.seed, device)
        print(f"recipe: {args.recipe}, {gan.recipe}")
    b = budget(device)
    num_steps = args.steps if args.steps is not None else b.cli_steps
    if num_steps < 1:
        raise ValueError(f"--steps must be at least 1, got {num_steps}.")
    _check_writable(args.out)
    train_set = data.load_images(gan.recipe.dataset, "train")
    images = train_set.images.to(device)
    labels = train_set.labels.to(device) if gan.recipe.num_classes else None
    seconds_before, every = gan.seconds, max(1, num_steps // 20)
    progress = False if args.quiet else None
    first = min(num_steps, 25)   # timed, then the rest: the same run as one call (the loop keeps no other state)
    with precision:
        train(gan, images, min(first, 5), labels=labels, sample_every=every, progress=False)
        start = time.perf_counter()
        train(gan, images, first - min(first, 5), labels=labels, sample_every=every, progress=False)
        per_step = (time.perf_counter() - start) / max(1, first - 5)
        if num_steps > first:
            source = f"the '{b.name}' budget's default" if args.steps is None else "--steps"
            print(f"training {num_steps} steps ({source}{', bf16' if args.bf16 else ''}); "
                  f"expected time about {per_step * (num_steps - first) / 60:.1f} minutes on this machine "
                  f"(from the first steps; other work on the machine slows it)", flush=True)
            train(gan, images, num_steps - first, labels=labels, sample_every=every, progress=progress)
    save_gan(gan, args.out)
    seconds = gan.seconds - seconds_before
    h = gan.history
    print(f"trained {num_steps} steps{' in bf16' if args.bf16 else ''} (now at step {gan.step}) in {seconds:.1f} s, "
          f"{num_steps * gan.recipe.batch_size * gan.recipe.d_steps / seconds:.0f} real images/s; "
          f"final losses: D {h['d_loss'][-1]:.3f}, G {h['g_loss'][-1]:.3f}; "
          f"mean D(x) {h['d_real'][-1]:.3f}, D(G(z)) {h['d_fake_after'][-1]:.3f}")
    print(f"checkpoint written to {args.out}")
    return 0


def _recipe(args, base: Recipe) -> Recipe:
    """``base`` with the fields the command line set; the conditional model gets its 10 classes."""
    changes = {"dataset": args.dataset, "model": args.model}
    for field, value in (("batch_size", args.batch_size), ("g_lr", args.lr), ("d_lr", args.lr),
                         ("d_steps", args.d_steps), ("real_target", args.real_target), ("d_dropout", args.d_dropout)):
        if value is not None:
            changes[field] = value
    if args.model in CONDITIONAL_MODELS:
        changes["num_classes"] = 10
    return replace(base, **changes)


def cmd_sample(args) -> int:
    if args.n < 1:
        raise ValueError(f"--n must be at least 1, got {args.n}.")
    _check_writable(args.out)
    gan = load_gan(args.checkpoint, pick_device())
    samples = gan.sample(args.n, seed=args.seed)
    _save_tensor(samples, args.out)
    print(f"wrote {tuple(samples.shape)} samples in [{samples.min():.2f}, {samples.max():.2f}] to {args.out}")
    return 0


def cmd_evaluate(args) -> int:
    from . import metrics
    from .machinery.budgets import budget
    from .machinery.cache import trained_classifier
    samples = _load_samples(args.samples)
    metrics.check_images(samples, f"the images in {args.samples}")
    device = pick_device()
    test_set = data.load_images(args.dataset, "test")
    n = min(len(samples), len(test_set))  # the same count on both sides: the FD depends on it (chapter 7)
    net = trained_classifier(args.dataset, device=device, verbose=not args.json)
    scores = metrics.evaluate(net, samples[:n].float(), test_set.images[:n])
    scores = {"samples": str(args.samples), "dataset": args.dataset, **scores, "classes": list(test_set.class_names)}
    if args.json:
        print(json.dumps(scores))
        return 0
    book_n = budget(device).fd_samples
    print(f"{n} generated images against {n} {args.dataset} test images")
    print(f"Frechet distance (classifier features): {scores['fd']:.2f}"
          + ("" if n == book_n else f"  (the book's count is {book_n}; FDs at other counts are not comparable)"))
    print(f"Inception Score (classifier): {scores['inception_score']:.2f} of at most {len(test_set.class_names)}")
    print(f"classes with >= 1% of the images: {scores['classes_present']} of {len(test_set.class_names)}")
    print(f"KL(class histogram || uniform): {scores['kl_uniform']:.4f} nats")
    for name, count in zip(test_set.class_names, scores["histogram"]):
        print(f"  {name:<12}{count:>7}")
    return 0


def cmd_diagnose(args) -> int:
    from .checkpoint import load_checkpoint
    from .diagnose import diagnose, report
    ckpt = load_checkpoint(args.checkpoint)
    history, recipe = ckpt.get("history"), ckpt.get("recipe")
    if not isinstance(history, dict) or not isinstance(recipe, dict) or "d_loss" not in history:
        raise CheckpointError(f"{args.checkpoint} holds no training history: it is not a GAN checkpoint. "
                              "Pass a file written by `python -m gan_lib train`.")
    findings = diagnose(history, g_loss=recipe.get("g_loss", "non_saturating"))
    steps = len(history["d_loss"])
    if args.json:
        print(json.dumps({"checkpoint": str(args.checkpoint), "steps": steps,
                          "findings": [f.as_dict() for f in findings]}))
        return 0
    print(f"{args.checkpoint}: {steps} steps of a {recipe.get('model', '?')} GAN, seed {ckpt.get('seed')}")
    print(report(findings))
    return 0


def cmd_cache(args) -> int:
    from .machinery import cache
    if args.action == "warm":
        return cache.warm(verbose=True)
    if args.action == "list":
        for path in sorted(cache.cache_root().glob("*.pt")):
            print(f"{path.stat().st_size / 1e6:7.1f} MB  {path.name}")
        return 0
    removed = cache.clear()
    print(f"removed {removed} cached files from {cache.cache_root()}")
    return 0


def cmd_colab_cells(args) -> int:
    from .machinery import colab
    root = Path(args.root)
    changed = colab.update_notebooks(root)
    print(f"Colab install cell for {colab.repository_url(root / '_config.yml')}: "
          f"{len(changed)} notebook(s) updated" + "".join(f"\n  {p}" for p in changed))
    return 0


def cmd_student_edition(args) -> int:
    from .machinery import student
    repository = (student.StudentRepository(args.repository_url, args.branch, args.path_to_book)
                  if args.repository_url else None)
    return student.main(Path(args.root), Path(args.out), book=args.book, repository=repository)


def cmd_assignments(args) -> int:
    from .machinery import assignments
    return assignments.main(Path(args.root), Path(args.course_dir), course_id=args.course_id)


# --- files -------------------------------------------------------------------------------------

def _check_writable(path: str) -> None:
    """Fail before any work if ``path`` cannot be written (no such folder, or no permission)."""
    folder = Path(path).expanduser().resolve().parent
    if not folder.is_dir():
        raise ValueError(f"cannot write {path}: the folder {folder} does not exist. Create it or choose another path.")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"cannot write {path}: no permission to write in {folder}. Choose another path.")


def _save_tensor(tensor: torch.Tensor, path: str) -> None:
    """torch.save to a temporary file beside ``path``, then rename: never a half-written file."""
    fd, tmp = tempfile.mkstemp(prefix=Path(path).name + ".", suffix=".part", dir=Path(path).resolve().parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(tensor, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_samples(path: str) -> torch.Tensor:
    hint = "write one with `python -m gan_lib sample CHECKPOINT --n 10000 --out samples.pt`"
    if not Path(path).is_file():
        raise ValueError(f"No samples file at {path}: {hint}.")
    try:
        samples = torch.load(path, weights_only=True)
    except Exception as err:
        raise ValueError(f"{path} is not a torch tensor file ({type(err).__name__}): {hint}.") from err
    if not isinstance(samples, torch.Tensor) or samples.dim() != 4 or tuple(samples.shape[1:]) != (1, 28, 28):
        shape = tuple(samples.shape) if isinstance(samples, torch.Tensor) else type(samples).__name__
        raise ValueError(f"{path} holds {shape}, expected an N x 1 x 28 x 28 tensor in [-1, 1]: {hint}.")
    if len(samples) < 2:
        raise ValueError(f"{path} holds {len(samples)} image; the Frechet distance needs at least 2.")
    return samples


# --- the parser --------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gan_lib", description="The GAN Generator Book's command line.")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("data", help="say where each dataset was found, or what to do to get it")
    d.add_argument("--no-download", action="store_true", help="only look for local copies")
    d.set_defaults(func=cmd_data)

    t = sub.add_parser("train", help="train a GAN and write a checkpoint")
    t.add_argument("--dataset", default="fashion-mnist", choices=sorted(data.DATASETS))
    t.add_argument("--model", default="mlp", choices=MODELS,
                   help="mlp: the seed's MLPs; dcgan: chapter 5's; cmlp: chapter 8's conditional MLPs (10 classes)")
    t.add_argument("--recipe", choices=["book", "plain"], default="book",
                   help="book: the book's recipe (chapter 4, the default); plain: the source article's")
    t.add_argument("--steps", type=int, default=None,
                   help="generator steps (default: the budget's cli_steps, a few minutes; see GAN_BOOK_BUDGET)")
    t.add_argument("--batch-size", type=int, default=None, help="default: the recipe's (64)")
    t.add_argument("--lr", type=float, default=None, help="Adam learning rate of both networks (default: the recipe's)")
    t.add_argument("--d-steps", type=int, default=None, help="discriminator steps per generator step (k)")
    t.add_argument("--real-target", type=float, default=None, help="< 1 for one-sided label smoothing")
    t.add_argument("--d-dropout", type=float, default=None, help="dropout in the discriminator")
    t.add_argument("--bf16", action="store_true", help="bfloat16 autocast, refused where bf16 is not native (1.6x "
                   "measured on AVX512-BF16, benchmarks/bf16_autocast.py); checkpoints do not record it")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--resume", default=None, help="continue this checkpoint (its recipe and seed are kept)")
    t.add_argument("--out", default="gan.pt", help="checkpoint to write (atomically)")
    t.add_argument("--quiet", action="store_true", help="no progress bar (there is none when output is not a terminal)")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="draw images from a checkpoint into a tensor file")
    s.add_argument("checkpoint")
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", default="samples.pt", help="torch.save'd N x 1 x 28 x 28 float tensor in [-1, 1]")
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser("evaluate", help="the chapter-7 metrics of a tensor of generated images")
    e.add_argument("samples", help="torch.save'd N x 1 x 28 x 28 tensor in [-1, 1] (from `sample`)")
    e.add_argument("--dataset", default="fashion-mnist", choices=sorted(data.DATASETS))
    e.add_argument("--json", action="store_true", help="print one JSON object instead of a report")
    e.set_defaults(func=cmd_evaluate)

    dg = sub.add_parser("diagnose", help="what a saved run's training curves say, in plain words (chapter 9)")
    dg.add_argument("checkpoint", help="a checkpoint written by `python -m gan_lib train`")
    dg.add_argument("--json", action="store_true", help='print one JSON object: {"findings": [{"cause", "message"}]}')
    dg.set_defaults(func=cmd_diagnose)

    c = sub.add_parser("cache", help="the seeded cache of trained models the chapters use")
    c.add_argument("action", choices=["warm", "list", "clear"])
    c.set_defaults(func=cmd_cache)

    st = sub.add_parser("student-edition", help="the chapters without solutions (notebooks; --book: the HTML too)")
    st.add_argument("out", help="folder to write (e.g. student_edition): OUT/chapters/*.ipynb, OUT/_build/html")
    st.add_argument("--book", action="store_true",
                    help="also build the HTML from the main build's executed notebooks (run `jupyter-book build` first)")
    st.add_argument("--root", default=".", help="the book's repository root (default: the current folder)")
    st.add_argument("--repository-url", default=None,
                    help="the repository where you publish the student notebooks (OUT/chapters): the student book's "
                         "Colab, Binder and repository buttons open them there. Default: the student book has no "
                         "launch or repository buttons (the book's own ones would open the solutions)")
    st.add_argument("--branch", default="main", help="the branch of --repository-url (default: main)")
    st.add_argument("--path-to-book", default="",
                    help="the folder of --repository-url that holds chapters/ (default: its root)")
    st.set_defaults(func=cmd_student_edition)

    a = sub.add_parser("assignments", help="the chapters with tagged exercises as an nbgrader course "
                                           "(COURSE_DIR/nbgrader_config.py, COURSE_DIR/source/chNN/chNN.ipynb)")
    a.add_argument("course_dir", help="the course folder to write (nbgrader's root); existing sources are replaced")
    a.add_argument("--course-id", default="gan-generator-book", help="nbgrader's course_id")
    a.add_argument("--root", default=".", help="the book's repository root (default: the current folder)")
    a.set_defaults(func=cmd_assignments)

    cc = sub.add_parser("colab-cells", help="write the hidden Colab install cell into every chapter "
                                             "(run after changing repository.url in _config.yml)")
    cc.add_argument("--root", default=".", help="the book's root folder (with _config.yml and chapters/)")
    cc.set_defaults(func=cmd_colab_cells)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (data.DataError, TrainingDiverged, CheckpointError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
