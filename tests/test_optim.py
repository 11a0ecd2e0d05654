"""gan_lib.optim: SGD and Adam by hand, against torch.optim, and their input checks."""
import pytest
import torch

from gan_lib.optim import adam_init, adam_step, sgd_step


def _problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    params = {"w": torch.randn(3, 4, generator=g, dtype=torch.float64), "b": torch.randn(4, generator=g, dtype=torch.float64)}
    grads = [{n: torch.randn(p.shape, generator=g, dtype=torch.float64) * s for n, p in params.items()}
             for s in (1e-6, 1.0, 1e3)]
    return params, grads


def test_sgd_step_is_w_minus_lr_g_and_leaves_its_inputs():
    params, (grad, *_) = _problem()
    before = {n: p.clone() for n, p in params.items()}
    new = sgd_step(params, grad, lr=0.1)
    for n in params:
        assert torch.equal(new[n], before[n] - 0.1 * grad[n]) and torch.equal(params[n], before[n])


@pytest.mark.parametrize("betas", [(0.5, 0.999), (0.9, 0.999), (0.0, 0.99)])
def test_adam_matches_torch_over_steps_of_very_different_scale(betas):
    params, grads = _problem(1)
    tensors = {n: p.clone().requires_grad_(True) for n, p in params.items()}
    opt = torch.optim.Adam(tensors.values(), lr=1e-3, betas=betas, eps=1e-8)
    state, mine = adam_init(params), params
    for grad in grads:
        for n, t in tensors.items():
            t.grad = grad[n].clone()
        opt.step()
        mine, state = adam_step(mine, grad, state, lr=1e-3, betas=betas)
    assert state.step == 3
    for n, t in tensors.items():
        assert torch.allclose(mine[n], t.detach(), rtol=1e-12, atol=1e-15), n
        assert torch.allclose(state.m[n], opt.state[t]["exp_avg"], rtol=1e-12, atol=1e-18)


def test_adam_first_step_moves_each_weight_by_about_lr_whatever_the_gradient_scale():
    """Bias correction: the first update is lr g / (|g| + eps), so about lr in every weight where |g| >> eps."""
    params, grads = _problem(2)
    for scale in (1e-2, 1.0, 1e3):
        grad = {n: g.sign() * (g.abs() + 1e-3) * scale for n, g in grads[1].items()}  # |g| >= 1e-5 >> eps
        new, _ = adam_step(params, grad, adam_init(params), lr=1e-3)
        moved = new["w"] - params["w"]
        assert torch.allclose(moved, -1e-3 * grad["w"].sign(), rtol=1e-3, atol=0), scale


def test_names_and_betas_are_checked():
    params, grads = _problem()
    with pytest.raises(ValueError, match="only in grads"):
        sgd_step({"w": params["w"]}, grads[0], 0.1)
    with pytest.raises(ValueError, match="betas"):
        adam_step(params, grads[0], adam_init(params), 1e-3, betas=(1.0, 0.999))
