"""gan_lib: the small library behind the GAN Generator Book.

One module per idea, named for what it holds: ``runtime`` (device, seeds),
``budgets`` (how long to train), ``data``, ``models``, ``losses``, ``backprop``,
``train``, ``metrics``, ``plots``, ``cli``.
"""
__version__ = "0.1.0"
