"""gan_lib.cli: every command on small inputs, and each mistake a user makes answered by one line."""
import json
import subprocess
import sys

import pytest
import torch

from gan_lib import data, metrics
from gan_lib.classifier import classifier_net
from gan_lib.checkpoint import load_gan
from gan_lib.cli import main
from gan_lib.machinery import cache

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


# --- evaluate, with a stand-in classifier and test set (no dataset needed) ---------------------

@pytest.fixture
def stand_ins(monkeypatch):
    g = torch.Generator().manual_seed(0)
    test = data.ImageData(torch.rand(100, 1, 28, 28, generator=g) * 2 - 1, torch.randint(10, (100,), generator=g),
                          tuple(f"class {i}" for i in range(10)), "synthetic")
    monkeypatch.setattr(data, "load_images", lambda name, split: test)
    torch.manual_seed(0)
    net = classifier_net().eval()
    monkeypatch.setattr(cache, "trained_classifier", lambda *args, **kwargs: net)
    return test, net


def test_evaluate_prints_json(tmp_path, stand_ins, capsys):
    test, net = stand_ins
    path = tmp_path / "samples.pt"
    torch.save(test.images[:60].clone(), path)
    assert main(["evaluate", str(path), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["num_samples"] == 60 and len(scores["histogram"]) == 10 and len(scores["classes"]) == 10
    assert abs(scores["fd"]) < 1e-6, "the test images against themselves: FD 0"
    assert scores["fd"] == pytest.approx(metrics.evaluate(net, test.images[:60], test.images[:60])["fd"], abs=1e-9)


def test_evaluate_prints_a_report(tmp_path, stand_ins, capsys):
    path = tmp_path / "samples.pt"
    torch.save(torch.rand(30, 1, 28, 28) * 2 - 1, path)
    assert main(["evaluate", str(path)]) == 0
    out = capsys.readouterr().out
    for words in ("Frechet distance", "Inception Score", "classes with >= 1%", "KL", "class 9"):
        assert words in out


def test_evaluate_refuses_bad_input(tmp_path, stand_ins, capsys):
    assert main(["evaluate", str(tmp_path / "missing.pt")]) == 2
    assert "No samples file" in capsys.readouterr().err
    path = tmp_path / "flat.pt"
    torch.save(torch.rand(30, 784), path)
    assert main(["evaluate", str(path)]) == 2
    assert "N x 1 x 28 x 28" in capsys.readouterr().err


def test_evaluate_refuses_images_outside_the_range_and_nan(tmp_path, stand_ins, capsys):
    path = tmp_path / "bright.pt"
    torch.save(torch.rand(30, 1, 28, 28) * 10, path)
    assert main(["evaluate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "range from" in err and "[-1, 1]" in err and len(err.splitlines()) == 1
    nan = torch.rand(30, 1, 28, 28) * 2 - 1
    nan[0, 0, 0, 0] = float("nan")
    torch.save(nan, path)
    assert main(["evaluate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "NaN" in err and "metrics.predict" not in err and len(err.splitlines()) == 1


@needs_fashion
def test_unwritable_out_is_one_line_before_any_work(tmp_path, capsys):
    ckpt = tmp_path / "ckpt.pt"
    assert main(["train", "--steps", "1", "--batch-size", "8", "--out", str(ckpt), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["sample", str(ckpt), "--out", "/no/such/dir/x.pt"]) == 2
    err = capsys.readouterr().err.strip()
    assert "does not exist" in err and len(err.splitlines()) == 1
    assert main(["train", "--steps", "1", "--out", "/no/such/dir/g.pt"]) == 2
    assert "does not exist" in capsys.readouterr().err


@needs_fashion
def test_no_progress_bar_when_output_is_not_a_terminal(tmp_path):
    """Run as a subprocess whose stderr is a pipe (a log file, CI): tqdm must draw nothing."""
    done = subprocess.run([sys.executable, "-m", "gan_lib", "train", "--steps", "3", "--batch-size", "8",
                           "--out", str(tmp_path / "g.pt")], capture_output=True, text=True,
                          env={k: v for k, v in __import__("os").environ.items()
                               if k not in ("GAN_BOOK_PROGRESS", "JPY_SESSION_NAME")})
    assert done.returncode == 0, done.stderr
    assert "step/s" not in done.stderr and "\r" not in done.stderr and "it/s" not in done.stderr


@needs_fashion
def test_the_conditional_model_trains_from_the_command_line(tmp_path, capsys):
    ckpt = tmp_path / "c.pt"
    assert main(["train", "--model", "cmlp", "--steps", "2", "--batch-size", "8", "--out", str(ckpt), "--quiet"]) == 0
    assert main(["sample", str(ckpt), "--n", "20", "--out", str(tmp_path / "s.pt")]) == 0


@needs_fashion
def test_train_defaults_to_the_books_recipe_and_prints_the_expected_time(tmp_path, capsys):
    from gan_lib.checkpoint import load_gan
    from gan_lib.machinery.recipes import BOOK, PLAIN
    assert main(["train", "--steps", "30", "--batch-size", "8", "--out", str(tmp_path / "b.pt"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "expected time about" in out and "trained 30 steps" in out
    from dataclasses import replace
    assert load_gan(tmp_path / "b.pt").recipe == replace(BOOK, batch_size=8)
    assert main(["train", "--recipe", "plain", "--steps", "2", "--out", str(tmp_path / "p.pt"), "--quiet"]) == 0
    assert load_gan(tmp_path / "p.pt").recipe == PLAIN


@needs_fashion
def test_diagnose_a_checkpoint_from_train(tmp_path, capsys):
    ckpt = tmp_path / "d.pt"
    assert main(["train", "--recipe", "plain", "--steps", "40", "--out", str(ckpt), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["diagnose", str(ckpt)]) == 0
    out = capsys.readouterr().out
    assert "40 steps of a mlp GAN" in out and "healthy:" in out
    assert main(["diagnose", str(ckpt), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["steps"] == 40 and [f["cause"] for f in report["findings"]] == ["healthy"]
    assert set(report["findings"][0]) == {"cause", "message"}


def test_diagnose_errors_are_one_line(tmp_path, capsys):
    assert main(["diagnose", str(tmp_path / "nope.pt")]) == 2
    err = capsys.readouterr().err
    assert "No checkpoint" in err and err.count("\n") == 1
    not_torch = tmp_path / "notes.txt"
    not_torch.write_text("hello")
    assert main(["diagnose", str(not_torch)]) == 2
    assert "not a readable checkpoint" in capsys.readouterr().err
    from gan_lib.checkpoint import save_checkpoint
    save_checkpoint({"settings": {}, "state": {}}, tmp_path / "classifier.pt")   # a checkpoint, but not of a GAN
    assert main(["diagnose", str(tmp_path / "classifier.pt")]) == 2
    err = capsys.readouterr().err
    assert "holds no training history" in err and err.count("\n") == 1


def test_train_bf16_is_refused_in_one_line_where_not_native(tmp_path, monkeypatch, capsys):
    from gan_lib import precision
    monkeypatch.setattr(precision, "native_bf16", lambda device: False)
    monkeypatch.setenv("GAN_BOOK_DEVICE", "cpu")
    assert main(["train", "--bf16", "--steps", "3", "--out", str(tmp_path / "g.pt"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "without --bf16" in err
    assert not (tmp_path / "g.pt").exists()


@needs_fashion
def test_train_bf16_trains_and_writes_a_checkpoint(tmp_path, monkeypatch, capsys):
    from gan_lib import precision
    monkeypatch.setattr(precision, "native_bf16", lambda device: True)   # emulated where not native: slow, not wrong
    monkeypatch.setenv("GAN_BOOK_DEVICE", "cpu")
    import gan_lib.cli as cli
    seen, real_train = [], cli.train

    def recording_train(*args, **kwargs):
        seen.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")))
        return real_train(*args, **kwargs)

    monkeypatch.setattr(cli, "train", recording_train)
    ckpt = tmp_path / "g.pt"
    assert main(["train", "--bf16", "--steps", "30", "--batch-size", "16", "--out", str(ckpt), "--quiet"]) == 0
    assert seen == [(True, torch.bfloat16)] * 3 and not torch.is_autocast_enabled("cpu")
    assert "trained 30 steps in bf16" in capsys.readouterr().out
    gan = load_gan(ckpt)
    assert gan.step == 30
    assert torch.isfinite(gan.sample(8, seed=0)).all()
