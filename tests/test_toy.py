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


@pytest.mark.parametrize("game", ["hinge", "wgan-gp"])
def test_the_games_train_each_seed_as_if_alone(game):
    recipe = toy.ToyRecipe(hidden=16, batch_size=32, game=game, pack=2)
    both = toy.train_toy(toy.new_toy_run(recipe, grid_modes(), 0.05, (0, 1)), 4)
    alone = toy.train_toy(toy.new_toy_run(recipe, grid_modes(), 0.05, (1,)), 4)
    assert torch.allclose(both.g_params[0][1], alone.g_params[0][0], atol=1e-5)
    assert all(torch.isfinite(p).all() for p in both.g_params + both.d_params)


def test_the_losses_are_the_image_games_summed_over_seeds():
    """Each seed's loss is its own batch mean (Eq. (ch2-d-loss), (ch6-hinge), (ch6-wgan) + (ch6-gp)); summed over seeds."""
    from gan_lib import losses
    for game in ("bce", "hinge", "wgan-gp"):
        run = toy.new_toy_run(toy.ToyRecipe(hidden=8, batch_size=6, game=game), ring_modes(), 0.01, (0, 3))
        real, fake = torch.randn(2, 6, 2), torch.randn(2, 6, 2)
        eps = torch.rand(2, 6, 1, generator=torch.Generator().manual_seed(0))
        total = toy._d_loss(run, real, fake, eps)
        per_seed = []
        for s in range(2):
            d = [p[s:s + 1] for p in run.d_params]
            critic = lambda x: toy.mlp_forward(d, x[None], 0.2)[0]  # noqa: E731
            loss = losses.discriminator_game_loss(game, critic(real[s]), critic(fake[s]))
            if game == "wgan-gp":
                loss = loss + losses.gradient_penalty(critic, real[s], fake[s], eps[s], 10.0)
            per_seed.append(loss)
        assert torch.allclose(total, sum(per_seed), atol=1e-5), game


def test_feature_matching_is_zero_when_fakes_are_the_real_samples():
    run = toy.new_toy_run(toy.ToyRecipe(hidden=8, batch_size=6, g_loss="feature_matching"), ring_modes(), 0.01, (0,))
    real = torch.randn(1, 6, 2)
    assert toy._g_loss(run, real, real.clone()) == 0
    assert toy._g_loss(run, real, real + 1) > 0
    with pytest.raises(ValueError, match="feature matching"):
        toy.ToyRecipe(g_loss="feature_matching", game="hinge")
    with pytest.raises(ValueError):
        toy.ToyRecipe(game="lsgan")
