"""gan_lib.plots: the image grid's layout and the offline animation player."""
import re

import pytest
import torch

from gan_lib.plots import animate_grids, image_grid, offline_jshtml


def test_image_grid_places_each_image_and_maps_minus_one_to_zero():
    images = torch.full((3, 1, 2, 2), -1.0)
    images[1] = 1.0
    grid = image_grid(images, nrow=2, pad=1)
    assert grid.shape == (1 + 2 * 3, 1 + 2 * 3)         # 2 rows and 2 columns of 2 x 2 images, 1 pixel apart
    assert (grid[1:3, 1:3] == 0).all() and (grid[1:3, 4:6] == 1).all() and (grid[4:6, 1:3] == 0).all()
    assert grid[0].min() == 1 and (grid[4:6, 4:6] == 1).all()  # padding and the empty cell are white


def test_image_grid_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match="N x 1 x H x W"):
        image_grid(torch.zeros(3, 28, 28))


def test_animation_player_is_self_contained():
    grids = [torch.linspace(-1, 1, 4 * 28 * 28).reshape(4, 1, 28, 28) * s for s in (0.2, 0.6, 1.0)]
    html = animate_grids([1, 50, 100], grids)
    assert len(re.findall(r"data:image/jpeg;base64,", html)) == 3   # one embedded frame per grid
    assert "http" not in html and 'class="fa' not in html              # no CDN stylesheet, no icon font
    assert "new GanBookPlayer(" in html and "function GanBookPlayer(" in html
    assert not re.search(r"\bAnimation\(", html)                       # the browser's own class is left alone


def test_offline_jshtml_refuses_what_it_cannot_clean():
    with pytest.raises(RuntimeError, match="player changed"):
        offline_jshtml('<img src="https://example.org/x.png">')


def test_animation_needs_one_step_per_grid():
    with pytest.raises(ValueError, match="one step number per grid"):
        animate_grids([1, 2], [torch.zeros(4, 1, 28, 28)])
