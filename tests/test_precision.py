"""gan_lib.precision: bf16 autocast, refused where bf16 is not native, and never with autocast's stale weight cache."""
import os
import subprocess
import sys

import pytest
import torch

from gan_lib import precision


def test_bf16_autocast_is_refused_where_bf16_is_not_native(monkeypatch):
    monkeypatch.setattr(precision, "native_bf16", lambda device: False)
    with pytest.raises(ValueError, match="no native bfloat16.*without --bf16"):
        precision.bf16_autocast("cpu")


def test_native_bf16_follows_onednn_isa_limit():
    """oneDNN's check is what the refusal rests on: hiding the CPU's bf16 instructions must turn it off."""
    code = "import torch; from gan_lib.precision import native_bf16; print(native_bf16('cpu'))"
    env = {**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_bf16_autocast_runs_bf16_with_the_current_weights(monkeypatch):
    """Inside one long ``with`` block, a weight updated in place must be re-read: the cast cache is off."""
    monkeypatch.setattr(precision, "native_bf16", lambda device: True)   # autocast itself runs on any CPU
    torch.manual_seed(0)
    layer, x = torch.nn.Linear(8, 4), torch.randn(3, 8)

    def before_and_after(context):
        with context:
            y0 = layer(x)
            with torch.no_grad():
                layer.weight.add_(1.0)
            y1 = layer(x)
        with torch.no_grad():
            layer.weight.sub_(1.0)
        return y0, y1

    y0, y1 = before_and_after(precision.bf16_autocast("cpu"))
    assert y0.dtype == torch.bfloat16
    torch.testing.assert_close(y1.float() - y0.float(), x.sum(1, keepdim=True).expand(3, 4), atol=0.1, rtol=0.02)
    # the same block with autocast's default cache: the update is not seen (the pitfall the helper avoids)
    stale0, stale1 = before_and_after(torch.autocast("cpu", dtype=torch.bfloat16))
    assert torch.equal(stale0, stale1)
