#!/usr/bin/env bash
# The book's GPU check, for a CUDA machine lent for a few minutes (the `device` tool of this workplace):
#   1. every chapter under nbval at the smoke budget, plus the trainer's and checkpoints' unit tests
#   2. chapter 4 at the `gpu` budget (its cached runs trained there: the tuned-against-plain answer at that budget)
#   3. the throughput benchmark and the step profile, with the count of host syncs per training step
# Each stage prints its figures and its seconds; the whole runs in under 10 minutes on one H200.
#
# That machine's python3 has torch but not the notebook stack: carry it as wheels in .whl/ (see the device
# tool's README: pip download --no-deps ... -d .whl nbval nbformat nbclient jupyter_client jupyter_core ipykernel
# ... for Python 3.12), and this script installs them into /tmp/site first.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
stage() { printf '\n=== %s (%d s so far)\n' "$1" "$(( $(date +%s) - start ))"; }
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export GAN_BOOK_CACHE=/tmp/gan-book-cache GAN_BOOK_PROGRESS=0 MPLBACKEND=Agg
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
python3 -m gan_lib data --no-download || { echo "no Fashion-MNIST on this machine: carry /usr/share/datasets/fashion-mnist as data/ and set GAN_BOOK_DATA"; }

stage "1. smoke: every chapter under nbval, and the trainer's tests"
GAN_BOOK_BUDGET=smoke timeout 240 python3 -m pytest -q -p no:cacheprovider chapters tests/test_train.py tests/test_checkpoint.py 2>&1 | tail -15

stage "2. chapter 4 at the gpu budget"
GAN_BOOK_BUDGET=gpu timeout 300 python3 -m pytest -q -p no:cacheprovider chapters/04_training_loop.ipynb 2>&1 | tail -5
GAN_BOOK_BUDGET=gpu python3 - <<'PY'
import numpy as np
from gan_lib import metrics, stats
from gan_lib.data import load_images
from gan_lib.machinery import budget, recipes, trained_classifier, trained_gan
b, test = budget(), load_images("fashion-mnist", "test").images
clf = trained_classifier("fashion-mnist")
fd = {name: [] for name in ("book", "plain")}
for run in recipes.chapter4_runs(b):
    gan = trained_gan(run.recipe, run.seed, run.num_steps)
    fd[run.name.split("-")[0]].append(metrics.fd(clf, gan.sample(len(test), seed=123), test))
    print(f"{run.name}: {run.num_steps} steps, {gan.seconds:.0f} s of training, FD {fd[run.name.split('-')[0]][-1]:.1f}")
print(stats.paired(fd["book"], fd["plain"], recipes.CONFIRM_SEEDS, names=("book", "plain")))
PY

stage "3. throughput and profile"
timeout 150 python3 benchmarks/train_throughput.py 2>&1 | tail -22
timeout 60 python3 benchmarks/profile_step.py --steps 50 --rows 12 2>&1 | tail -18
stage "done"
