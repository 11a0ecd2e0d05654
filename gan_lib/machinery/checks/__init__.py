"""Machinery: the exercises' checks, one module per chapter (``chN.py``) on a common core (``core.py``).

Chapters import them from here: ``from gan_lib.machinery.checks import check_logit_grad``.
"""
from .ch1 import *  # noqa: F401,F403
from .ch2 import *  # noqa: F401,F403
from .ch3 import *  # noqa: F401,F403
from .ch4 import *  # noqa: F401,F403
from .ch7 import *  # noqa: F401,F403
from .ch8 import *  # noqa: F401,F403
from .ch5 import *  # noqa: F401,F403
from .ch6 import *  # noqa: F401,F403
from .ch9 import *  # noqa: F401,F403
from .core import CheckFailed, as_count, check_close, check_count, check_function, check_grad, check_step  # noqa: F401
