"""gan_lib.toy: batched 2-D GANs are independent per seed, and PacGAN packing is a reshape."""
import pytest
import torch

from gan_lib import toy
from gan_lib.mixtures import grid_modes, ring_modes


def test_pack_samples():
    x = torch.arange(24.0).reshape(2, 6, 2)
    packed = toy.pack_samples(x, 3)
    assert packed.shape == (2, 2, 6) and packed[1, 0].tolist() == x[1, :3].flatten().tolist()
    with pytest.raises(ValueError):
        toy.pack_samples(x, 4)


def test_batched_mlp_matches_each_seed_alone():
    params = toy.init_mlp([2, 8, 1], (3, 5), salt=2)
    alone = toy.init_mlp([2, 8, 1], (5,), salt=2)
    assert torch.equal(params[0][1], alone[0][0])
    x = torch.randn(2, 4, 2)
    out = toy.mlp_forward(params, x, 0.2)
    ref = torch.nn.functional.leaky_relu(x[1] @ params[0][1] + params[1][1], 0.2) @ params[2][1] + params[3][1]
    assert out.shape == (2, 4, 1) and torch.allclose(out[1], ref, atol=1e-6)


@pytest.mark.parametrize("pack", [1, 2])
def test_a_seed_trains_the_same_beside_others(pack):
    recipe = toy.ToyRecipe(hidden=16, batch_size=32, pack=pack)
    both = toy.train_toy(toy.new_toy_run(recipe, ring_modes(), 0.01, (0, 1)), 5, snapshot_at=(5,), num_snapshot=10)
    alone = toy.train_toy(toy.new_toy_run(recipe, ring_modes(), 0.01, (1,)), 5)
    assert both.step == 5 and both.snapshots[5].shape == (2, 10, 2)
    assert torch.allclose(both.g_params[0][1], alone.g_params[0][0], atol=1e-5)
    assert both.sample(7).shape == (2, 7, 2)


def test_training_moves_samples_towards_the_data():
    run = toy.new_toy_run(toy.ToyRecipe(hidden=32, batch_size=64), grid_modes(), 0.05, (0,))
    before = run.sample(500).abs().mean()
    toy.train_toy(run, 200)
    assert run.sample(500).abs().mean() > 2 * before  # the grid spans [-4, 4]; the untrained G sits near 0


def test_recipe_checks():
    with pytest.raises(ValueError):
        toy.ToyRecipe(batch_size=10, pack=4)
    with pytest.raises(ValueError):
        toy.ToyRecipe(hidden=0)
    with pytest.raises(ValueError):
        toy.new_toy_run(toy.ToyRecipe(), ring_modes(), 0.01, (1, 1))
