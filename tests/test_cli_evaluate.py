"""`python -m gan_lib evaluate SAMPLES`, with a stand-in classifier and test set (no dataset needed)."""
import json

import pytest
import torch

from gan_lib import cache, data, metrics
from gan_lib.cli import main


@pytest.fixture
def stand_ins(monkeypatch):
    g = torch.Generator().manual_seed(0)
    test = data.ImageData(torch.rand(100, 1, 28, 28, generator=g) * 2 - 1, torch.randint(10, (100,), generator=g),
                          tuple(f"class {i}" for i in range(10)), "synthetic")
    monkeypatch.setattr(data, "load_images", lambda name, split: test)
    torch.manual_seed(0)
    net = metrics.classifier_net().eval()
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
    for words in ("Frechet distance", "Inception Score", "classes covered", "KL", "class 9"):
        assert words in out


def test_evaluate_refuses_bad_input(tmp_path, stand_ins, capsys):
    assert main(["evaluate", str(tmp_path / "missing.pt")]) == 2
    assert "No samples file" in capsys.readouterr().err
    path = tmp_path / "flat.pt"
    torch.save(torch.rand(30, 784), path)
    assert main(["evaluate", str(path)]) == 2
    assert "N x 1 x 28 x 28" in capsys.readouterr().err
