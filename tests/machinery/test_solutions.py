"""gan_lib.machinery.solutions: the nbgrader solution cell made from a stub and the book's reference cell."""
import re

import pytest

from gan_lib.machinery import solutions


def test_solution_source_wraps_a_functions_body_and_keeps_its_signature():
    stub = '# Your turn.\ndef f(x):\n    """Doc."""\n    raise NotImplementedError\n'
    ref = 'def f(x):\n    """Doc."""\n    y = x + 1  # why\n    return y\n\n\nassert check_f(f)\n'
    assert solutions.solution_source(stub, ref) == (
        '# Your turn.\ndef f(x):\n    """Doc."""\n    ### BEGIN SOLUTION\n    y = x + 1  # why\n    return y\n'
        '    ### END SOLUTION\n')


def _release(source: str) -> str:
    """What nbgrader's ClearSolutions makes of a solution cell (each region becomes its code stub)."""
    return re.sub(r"^( *)### BEGIN SOLUTION\n.*?^ *### END SOLUTION\n?",
                  lambda m: f"{m[1]}# YOUR CODE HERE\n{m[1]}raise NotImplementedError()\n", source, flags=re.S | re.M)


def test_solution_source_keeps_only_the_definition_and_what_it_needs():
    stub = 'def f(x):\n    """Doc."""\n    return None\n'
    ref = ("import math\nimport os\nSCALE = 2\nz = 5  # a demonstration's input\n\n\ndef _half(x):\n    return x / SCALE\n\n\n"
           'def f(x):\n    """Doc."""\n    return _half(x) * math.pi\n\n\nprint(f(z))\nassert f(0) == 0\nassert check_f(f)\n')
    out = solutions.solution_source(stub, ref)
    for gone in ("import os", "z = 5", "print(", "assert"):
        assert gone not in out, gone
    assert "import math" in out and "SCALE = 2" in out and "def _half(x):\n    ### BEGIN SOLUTION" in out
    released = {}
    exec(_release(out), released)  # the release defines f without raising; calling it says "not answered"
    with pytest.raises(NotImplementedError):
        released["f"](1.0)


def test_solution_source_keeps_a_placeholder_and_puts_a_value_last():
    stub = "import torch\n\nmy_count = None  # the count\n"
    ref = ("import torch\nimport math\n\n\ndef helper(n):\n    return n\n\n\nmy_count = helper(60)\nprint(my_count)\n"
           "assert check_count('c', my_count, 60)")
    out = solutions.solution_source(stub, ref)
    assert out == ("import torch\n\nmy_count = None  # the count\n\n### BEGIN SOLUTION\ndef helper(n):\n    return n\n\n"
                   "my_count = helper(60)\n### END SOLUTION\n")
    released = {}
    with pytest.raises(NotImplementedError):
        exec(_release(out), released)
    assert "my_count" in released and released["my_count"] is None


def test_a_stubs_line_after_its_definition_stays_after_it():
    stub = 'def f(x):\n    """Doc."""\n    raise NotImplementedError\n\n\nprint(f(2))\n'
    ref = 'def f(x):\n    """Doc."""\n    return x + 1\n\n\nprint(f(2))\nassert check_f(f)\n'
    out = solutions.solution_source(stub, ref)
    assert out.index("def f(x):") < out.index("print(f(2))"), out
    namespace = {}
    exec(out.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""), namespace)  # prints 3, no NameError
