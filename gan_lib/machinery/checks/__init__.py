"""Machinery: the exercises' checks, one module per chapter (``chN.py``) on a common core (``core.py``).

Chapters import them from here: ``from gan_lib.machinery.checks import check_logit_grad``.
"""
from .ch1 import *  # noqa: F401,F403
from .ch2 import *  # noqa: F401,F403
from .ch3 import *  # noqa: F401,F403
from .core import CheckFailed, check_close, check_grad  # noqa: F401
