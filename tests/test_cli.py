import subprocess
import sys

import pytest
import torch

from gan_lib import data
from gan_lib.cli import main

needs_fashion = pytest.mark.skipif(data.locate("fashion-mnist")[0] is None,
                                   reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")


@needs_fashion
def test_train_then_sample_then_resume(tmp_path, capsys):
    ckpt, samples = tmp_path / "ckpt.pt", tmp_path / "samples.pt"
    assert main(["train", "--steps", "3", "--batch-size", "16", "--seed", "0", "--out", str(ckpt), "--quiet"]) == 0
    assert "trained 3 steps" in capsys.readouterr().out
    assert main(["sample", str(ckpt), "--n", "50", "--out", str(samples)]) == 0
    x = torch.load(samples, weights_only=True)
    assert x.shape == (50, 1, 28, 28) and x.dtype == torch.float32 and -1 <= x.min() and x.max() <= 1
    assert main(["train", "--resume", str(ckpt), "--steps", "2", "--out", str(ckpt), "--quiet"]) == 0
    assert "now at step 5" in capsys.readouterr().out


def test_sample_from_missing_checkpoint_fails_clearly(tmp_path, capsys):
    assert main(["sample", str(tmp_path / "nope.pt")]) == 2
    assert "No checkpoint" in capsys.readouterr().err


def test_data_command_reports_missing(isolated_data, capsys):
    assert main(["data", "--no-download"]) == 1
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().out


def test_help_runs_as_a_module():
    out = subprocess.run([sys.executable, "-m", "gan_lib", "--help"], capture_output=True, text=True, check=True)
    for command in ("train", "sample", "data", "cache"):
        assert command in out.stdout
