"""Figures of the book, drawn with matplotlib only (they render offline)."""
from __future__ import annotations

import math
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.animation import FuncAnimation
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch


def image_grid(images: torch.Tensor, nrow: int = 8, pad: int = 2) -> np.ndarray:
    """Tile N x 1 x H x W images in [-1, 1] into one 2-D array in [0, 1] (background white)."""
    if images.dim() != 4 or images.shape[1] != 1:
        raise ValueError(f"expected images of shape N x 1 x H x W, got {tuple(images.shape)}.")
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) / 2)[:, 0].numpy()
    n, h, w = x.shape
    ncol = min(nrow, n)
    nrows = math.ceil(n / ncol)
    grid = np.ones((nrows * (h + pad) + pad, ncol * (w + pad) + pad))
    for i in range(n):
        r, c = divmod(i, ncol)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = x[i]
    return grid


def show_images(images: torch.Tensor, nrow: int = 8, title: str = "", ax=None):
    """Show a grid of images (dark garments on a light background, as Fashion-MNIST is drawn)."""
    ax = ax or plt.subplots(figsize=(nrow * 0.6, math.ceil(len(images) / nrow) * 0.6 + 0.4))[1]
    ax.imshow(1 - image_grid(images, nrow), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.set_axis_off()
    return ax


def _box(ax, xy, text, color):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - 1.05, y - 0.38), 2.1, 0.76, boxstyle="round,pad=0.05",
                                fc=color, ec="black", lw=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=9)


def _arrow(ax, a, b, color="black", style="-|>", ls="-", text="", offset=(0, 0.18)):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=14, color=color, lw=1.5, ls=ls,
                                 connectionstyle="arc3,rad=0.0"))
    if text:
        ax.text((a[0] + b[0]) / 2 + offset[0], (a[1] + b[1]) / 2 + offset[1], text, ha="center",
                fontsize=8.5, color=color)


def draw_pipeline(ax=None):
    """The GAN pipeline (chapter 1): noise -> G -> fake; real and fake -> D -> verdict -> two losses,
    and the gradient path (dashed) from the generator's loss back through D into G."""
    ax = ax or plt.subplots(figsize=(12, 4.6))[1]
    pos = {"z": (0.2, 3), "G": (2.9, 3), "fake": (5.6, 3), "real": (5.6, 1.0), "D": (8.3, 2),
           "verdict": (11.0, 2), "lossD": (13.8, 1.0), "lossG": (13.8, 3)}
    _box(ax, pos["z"], "noise z ~ N(0, I)\n(100 numbers)", "#eeeeee")
    _box(ax, pos["G"], "generator G\n(MLP, Tanh)", "#cfe8ff")
    _box(ax, pos["fake"], "fake image\nx = G(z)", "#cfe8ff")
    _box(ax, pos["real"], "real image x\n(Fashion-MNIST)", "#e6f5d0")
    _box(ax, pos["D"], "discriminator D\n(MLP)", "#ffe0c2")
    _box(ax, pos["verdict"], "verdict: logit a\nD(x) = sigmoid(a)", "#ffe0c2")
    _box(ax, pos["lossD"], "D's loss: BCE\nreal->1, fake->0", "#fff3b0")
    _box(ax, pos["lossG"], "G's loss: BCE\nfake->1", "#fff3b0")
    for a, b in [("z", "G"), ("G", "fake"), ("D", "verdict")]:
        _arrow(ax, (pos[a][0] + 1.1, pos[a][1]), (pos[b][0] - 1.1, pos[b][1]))
    _arrow(ax, (pos["fake"][0] + 1.1, pos["fake"][1] - 0.2), (pos["D"][0] - 1.1, pos["D"][1] + 0.2))
    _arrow(ax, (pos["real"][0] + 1.1, pos["real"][1] + 0.2), (pos["D"][0] - 1.1, pos["D"][1] - 0.2))
    _arrow(ax, (pos["verdict"][0] + 1.1, pos["verdict"][1] - 0.2), (pos["lossD"][0] - 1.1, pos["lossD"][1] + 0.1))
    _arrow(ax, (pos["verdict"][0] + 1.1, pos["verdict"][1] + 0.2), (pos["lossG"][0] - 1.1, pos["lossG"][1] - 0.1))
    # Gradients: G's loss flows back through D (whose weights stay put) into G's weights.
    _arrow(ax, (pos["lossG"][0], pos["lossG"][1] + 0.45), (pos["G"][0], pos["G"][1] + 0.45), color="#c0392b",
           ls="--", text="gradient of G's loss: back through D (frozen) and x into G's weights", offset=(0, 0.75))
    _arrow(ax, (pos["lossD"][0], pos["lossD"][1] - 0.45), (pos["D"][0] + 0.3, pos["D"][1] - 0.45), color="#2c3e91",
           ls="--", text="gradient of D's loss: into D's weights only", offset=(0.6, -0.75))
    ax.set_xlim(-1.0, 15.0)
    ax.set_ylim(-0.1, 4.5)
    ax.set_axis_off()
    ax.set_title("One round of GAN training: solid arrows carry data forward, dashed arrows carry gradients back")
    return ax


def plot_history(history: dict, axes=None, equilibrium: float = 0.5):
    """Losses, discriminator outputs (with the equilibrium value marked) and gradient norms over steps."""
    axes = axes if axes is not None else plt.subplots(1, 3, figsize=(15, 3.8))[1]
    step = history["step"]
    axes[0].plot(step, history["d_loss"], label="discriminator loss", lw=0.8)
    axes[0].plot(step, history["g_loss"], label="generator loss", lw=0.8)
    axes[0].set(title="Losses", xlabel="generator step", ylabel="BCE (nats)")
    axes[1].plot(step, history["d_real"], label="mean D(x), real", lw=0.8)
    axes[1].plot(step, history["d_fake_before"], label="mean D(G(z)), before D's update", lw=0.8)
    axes[1].plot(step, history["d_fake_after"], label="mean D(G(z)), after D's update", lw=0.8, alpha=0.7)
    axes[1].axhline(equilibrium, color="black", ls=":", label=f"equilibrium {equilibrium:g}")
    axes[1].set(title="Discriminator outputs", xlabel="generator step", ylabel="probability", ylim=(0, 1))
    axes[2].semilogy(step, history["g_grad_norm"], label="generator", lw=0.8)
    axes[2].semilogy(step, history["d_grad_norm"], label="discriminator", lw=0.8)
    axes[2].set(title="Gradient norms", xlabel="generator step", ylabel="L2 norm")
    for ax in axes:
        ax.legend(fontsize=8)
    return axes


# matplotlib's HTML player draws its buttons with Font Awesome icons fetched from a CDN, and defines a global
# function `Animation`, the name of the browser's own Web Animations class. The book is read offline too, so the
# player below is the same one with plain-text buttons and a name of its own.
_BUTTONS = {"fa-minus": "&minus;", "fa-fast-backward": "|&#9664;&#9664;", "fa-step-backward": "|&#9664;",
            "fa-play fa-flip-horizontal": "&#9664;", "fa-pause": "&#10074;&#10074;", "fa-play": "&#9654;",
            "fa-step-forward": "&#9654;|", "fa-fast-forward": "&#9654;&#9654;|", "fa-plus": "+"}


def offline_jshtml(html: str) -> str:
    """Make the output of matplotlib's ``Animation.to_jshtml`` self-contained: no CDN stylesheet, text buttons,
    and the player renamed so that it cannot clash with the browser's built-in ``Animation``."""
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html)
    html = re.sub(r'<i class="fa ([a-z -]+)"></i>', lambda m: _BUTTONS[m[1]], html)
    html = re.sub(r"\bAnimation\b(?=[(.])", "GanBookPlayer", html)
    leftover = re.findall(r"https?://[^\s\"'<>]+|<i class=\"fa[^>]*>|\bnew Animation\(", html)
    if leftover:
        raise RuntimeError(f"matplotlib's player changed; offline_jshtml cannot clean {leftover[:3]}: update _BUTTONS.")
    return html


def animate_grids(steps: list[int], grids: list[torch.Tensor], interval_ms: int = 300, size: float = 4.0) -> str:
    """An HTML player (works offline) of the fixed-noise sample grids a training run stored, one frame per grid."""
    if not grids or len(steps) != len(grids):
        raise ValueError(f"need one step number per grid, got {len(steps)} steps and {len(grids)} grids.")
    fig, ax = plt.subplots(figsize=(size, size + 0.3), dpi=72)
    frame = ax.imshow(1 - image_grid(grids[0].float()), cmap="gray", vmin=0, vmax=1)
    title = ax.set_title("")
    ax.set_axis_off()

    def show(i: int):
        frame.set_data(1 - image_grid(grids[i].float()))
        title.set_text(f"generator step {steps[i]}")
        return frame, title

    movie = FuncAnimation(fig, show, frames=len(grids), interval=interval_ms)
    with matplotlib.rc_context({"animation.frame_format": "jpeg"}):  # a quarter of PNG's size, in the page
        html = movie.to_jshtml(default_mode="once")
    plt.close(fig)
    return offline_jshtml(html)
