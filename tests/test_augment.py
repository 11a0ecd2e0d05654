"""gan_lib.augment: each transformation on images whose answer is known, the random policy's ranges,
reproducibility, gradients, and the error paths."""
import pytest
import torch

from gan_lib import augment


def _images(n=16, seed=0, dtype=torch.float32):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed), dtype=dtype) * 2 - 1


def _impulses(n, row=10, col=17):
    images = torch.full((n, 1, 28, 28), augment.BACKGROUND)
    images[:, 0, row, col] = 1.0
    return images


def test_translate_moves_an_impulse_by_the_given_amount():
    shift_y, shift_x = torch.tensor([0, 3, -4, 2, 0]), torch.tensor([0, -2, 1, 4, -4])
    out = augment.translate(_impulses(5), shift_y, shift_x)
    for n in range(5):
        assert (out[n, 0] == 1.0).nonzero().tolist() == [[10 + shift_y[n].item(), 17 + shift_x[n].item()]]
        assert (out[n, 0] == augment.BACKGROUND).sum() == 28 * 28 - 1


def test_translate_fills_the_uncovered_border_with_the_background():
    ones = torch.ones(2, 1, 28, 28)
    out = augment.translate(ones, torch.tensor([3, -2]), torch.tensor([0, 4]))
    assert (out[0, 0, :3] == augment.BACKGROUND).all() and (out[0, 0, 3:] == 1).all()          # 3 rows down
    assert (out[1, 0, -2:] == augment.BACKGROUND).all() and (out[1, 0, :, :4] == augment.BACKGROUND).all()
    assert (out[1, 0, :-2, 4:] == 1).all()
    assert (out == augment.BACKGROUND).sum(dim=(1, 2, 3)).tolist() == [3 * 28, 28 * 28 - 26 * 24]


def test_translate_by_zero_is_the_identity():
    images = _images()
    zero = torch.zeros(len(images), dtype=torch.int64)
    assert torch.equal(augment.translate(images, zero, zero), images)


def test_cutout_blanks_exactly_the_square_clipped_at_the_border():
    ones = torch.ones(4, 1, 28, 28)
    centre_y, centre_x = torch.tensor([14, 0, 27, 7]), torch.tensor([14, 0, 20, 7])
    out = augment.cutout(ones, centre_y, centre_x, 14)
    cut = (out == augment.BACKGROUND)[:, 0]
    assert cut[0, 7:21, 7:21].all() and cut[0].sum() == 14 * 14                  # inside: 14 x 14, a quarter
    assert cut[1, :7, :7].all() and cut[1].sum() == 7 * 7                        # a corner: rows and columns 0..6
    assert cut[2, 20:, 13:27].all() and cut[2].sum() == 8 * 14                   # rows 20..27, columns 13..26
    assert cut[3, 0:14, 0:14].all() and cut[3].sum() == 14 * 14
    assert (out[~cut[:, None]] == 1).all()


def test_adjust_color_by_hand():
    images = torch.tensor([[[[-1.0, 0.0], [0.5, 0.5]]]])          # mean 0
    out = augment.adjust_color(images, torch.tensor([0.25]), torch.tensor([2.0]))
    # + 0.25 -> mean 0.25; deviations (-1, 0, 0.5, 0.5) doubled: (-2, 0, 1, 1) + 0.25
    assert torch.allclose(out, torch.tensor([[[[-1.75, 0.25], [1.25, 1.25]]]]))
    assert torch.equal(augment.adjust_color(images, torch.zeros(1), torch.ones(1)), images)


def test_random_translation_moves_each_impulse_by_at_most_four_pixels_and_keeps_the_range():
    out = augment.diff_augment(_impulses(200), "translation", torch.Generator().manual_seed(0))
    shifts = set()
    for image in out[:, 0]:
        (where,) = (image == 1.0).nonzero().tolist()  # the impulse at (10, 17) never falls off: 17 + 4 < 28
        shifts.add((where[0] - 10, where[1] - 17))
        assert (image == augment.BACKGROUND).sum() == 28 * 28 - 1
    assert shifts <= {(dy, dx) for dy in range(-4, 5) for dx in range(-4, 5)} and len(shifts) > 40


def test_random_cutout_is_a_clipped_half_side_square():
    out = augment.diff_augment(torch.ones(300, 1, 28, 28), "cutout", torch.Generator().manual_seed(1))
    areas = []
    for image in out[:, 0]:
        rows, cols = (image == augment.BACKGROUND).nonzero().unbind(1)
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert len(rows) == height * width                                 # a full rectangle
        assert height == 14 or rows.min() == 0 or rows.max() == 27         # shorter only where clipped
        assert width == 14 or cols.min() == 0 or cols.max() == 27
        areas.append(len(rows))
    assert max(areas) == 14 * 14 and min(areas) >= 7 * 7


def test_translation_and_cutout_keep_the_images_range_and_color_does_what_it_says():
    images = _images(64)
    out = augment.diff_augment(images, "translation,cutout", torch.Generator().manual_seed(2))
    assert out.min() >= -1 and out.max() <= 1
    colored = augment.diff_augment(images, "color", torch.Generator().manual_seed(2))
    shift = colored.mean(dim=(1, 2, 3)) - images.mean(dim=(1, 2, 3))              # the brightness
    scale = (colored.std(dim=(1, 2, 3)) / images.std(dim=(1, 2, 3)))               # the contrast
    assert (shift >= -0.5 - 1e-6).all() and (shift < 0.5 + 1e-6).all() and shift.std() > 0.1
    assert (scale >= 0.5 - 1e-5).all() and (scale < 1.5 + 1e-5).all() and scale.std() > 0.1


def test_the_same_generator_state_gives_the_same_augmentation():
    images = _images()
    a = augment.diff_augment(images, "color,translation,cutout", torch.Generator().manual_seed(3))
    b = augment.diff_augment(images, "color,translation,cutout", torch.Generator().manual_seed(3))
    c = augment.diff_augment(images, "color,translation,cutout", torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_probability_zero_and_the_empty_policy_are_the_identity():
    images = _images()
    assert torch.equal(augment.diff_augment(images, "color,translation,cutout", torch.Generator(), probability=0.0), images)
    assert torch.equal(augment.diff_augment(images, "", torch.Generator()), images)


def test_probability_applies_each_augmentation_to_about_that_share_of_images():
    out = augment.diff_augment(torch.ones(1000, 1, 28, 28), "cutout", torch.Generator().manual_seed(5), probability=0.3)
    share = (out == augment.BACKGROUND).flatten(1).any(1).double().mean().item()
    assert share == pytest.approx(0.3, abs=0.05)


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
def test_gradients_flow_to_the_images(policy):
    images = _images(8, dtype=torch.float64).requires_grad_(True)
    out = augment.diff_augment(images, policy, torch.Generator().manual_seed(6))
    (grad,) = torch.autograd.grad((out * torch.linspace(0, 1, 28 * 28, dtype=torch.float64).view(1, 1, 28, 28)).sum(),
                                  images)
    assert grad.abs().sum(dim=(1, 2, 3)).min() > 0     # every image gets a gradient


def test_translate_gradient_is_the_shifted_output_gradient():
    # d out / d images routes each pixel's gradient to the pixel it came from; pixels moved out get none.
    images = _images(1, dtype=torch.float64).requires_grad_(True)
    weights = torch.rand(1, 1, 28, 28, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    out = augment.translate(images, torch.tensor([2]), torch.tensor([-3]))
    (grad,) = torch.autograd.grad((out * weights).sum(), images)
    expected = torch.zeros_like(grad)
    expected[0, 0, :26, 3:] = weights[0, 0, 2:, :25]
    assert torch.equal(grad, expected)


@pytest.mark.parametrize("call, match", [
    (lambda: augment.diff_augment(_images(), "translation,flip", torch.Generator()), "unknown augmentation 'flip'"),
    (lambda: augment.diff_augment(_images(), "color", torch.Generator(), probability=1.5), "probability"),
    (lambda: augment.diff_augment(_images().flatten(1), "color", torch.Generator()), "N x C x H x W"),
    (lambda: augment.translate(_images(2), torch.tensor([1.0, 2.0]), torch.tensor([0, 0])), "integer"),
    (lambda: augment.cutout(_images(2), torch.tensor([1, 2, 3]), torch.tensor([0, 0]), 14), "one value per image"),
    (lambda: augment.adjust_color(_images(2), torch.zeros(3), torch.ones(2)), "one value per image"),
])
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
