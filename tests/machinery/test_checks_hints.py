"""gan_lib.machinery.checks.hints: each hint names its mistake, and says nothing when there is no such mistake."""
import torch

from gan_lib.machinery.checks.hints import factor_hint, shape_hint, step_hint

TRUE = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]], dtype=torch.float64)


def test_shape_hints():
    assert "transposed" in shape_hint(TRUE.T, TRUE)
    assert "size 1" in shape_hint(TRUE[None], TRUE)
    assert ".reshape()" in shape_hint(TRUE.reshape(3, 2).contiguous().reshape(6), TRUE)
    assert "single number" in shape_hint(TRUE.sum(), TRUE)
    assert "mean over the batch" in shape_hint(TRUE, TRUE.mean())
    assert shape_hint(torch.zeros(4), TRUE) == ""


def test_factor_hints_name_the_batch_size_the_entry_count_and_the_sign():
    assert "2 times" in factor_hint(2 * TRUE, TRUE) and "batch size" in factor_hint(2 * TRUE, TRUE)
    assert "6 times" in factor_hint(6 * TRUE, TRUE)
    assert "1/6" in factor_hint(TRUE / 6, TRUE)
    assert "wrong sign" in factor_hint(-TRUE, TRUE)
    assert "zero everywhere" in factor_hint(torch.zeros_like(TRUE), TRUE)
    assert "times 1.7" in factor_hint(1.7 * TRUE, TRUE)


def test_no_factor_hint_for_rounding_or_for_a_different_answer():
    float32 = TRUE.float().double()  # a right answer in float32: never "times 1 everywhere"
    assert factor_hint(float32, TRUE) == ""
    other = TRUE.clone()
    other[0, 0] += 1.0
    assert factor_hint(other, TRUE) == ""
    assert factor_hint(torch.tensor([3.0]), torch.tensor([1.5])) == ""  # one entry fixes no constant factor


def test_step_hints():
    step = -0.01 * TRUE
    assert "did not move" in step_hint(torch.zeros_like(step), step)
    assert "wrong way" in step_hint(-step, step) and "size" not in step_hint(-step, step)
    assert "3 times the true one" in step_hint(-3 * step, step)
    assert "times 0.5" in step_hint(0.5 * step, step)
    assert step_hint(step, step) == ""
