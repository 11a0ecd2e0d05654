"""Root pytest configuration: a bare `pytest` runs the unit tests and every chapter at the "smoke" budget.

Notebook kernels inherit this process's environment, so every cell of every chapter still runs and every
math check still asserts, but training is a few steps long. Set GAN_BOOK_BUDGET=cpu (or gpu, full) to run the
chapters at a real budget under pytest; the book build (`jupyter-book build`) uses the default budget.
"""
import os

os.environ.setdefault("GAN_BOOK_BUDGET", "smoke")
os.environ.setdefault("GAN_BOOK_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")
