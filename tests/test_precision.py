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


def _native_in_a_fresh_process(**env: str) -> bool:
    code = "from gan_lib.precision import native_bf16; print(native_bf16('cpu'))"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip() == "True"


@pytest.mark.skipif(not torch.cpu._is_avx512_bf16_supported(), reason="this CPU has no AVX512-BF16 instructions")
def test_native_bf16_on_this_cpu_and_under_an_avx2_limit():
    """True on a CPU with AVX512-BF16; False once oneDNN is limited to AVX2 (its own check then says no)."""
    assert _native_in_a_fresh_process()
    assert not _native_in_a_fresh_process(ONEDNN_MAX_CPU_ISA="AVX2")


def test_native_bf16_needs_the_instructions_not_only_avx512(monkeypatch):
    """oneDNN's check alone says yes on any AVX512 CPU (Skylake, Cascade Lake): the instructions must be there too."""
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert not precision.native_bf16("cpu")
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    assert precision.native_bf16("cpu")


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
