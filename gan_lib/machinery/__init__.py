"""Machinery: what runs the book, not what it teaches. Nothing in here is about GANs.

* ``budgets`` - how long the book trains: one named budget (smoke, cpu, gpu, full), from ``GAN_BOOK_BUDGET``.
* ``recipes`` - the named recipes of the chapters and every run they share through the cache.
* ``step_costs`` - the cost of one step of each recipe, timed again in chapters 4 and 5 against the fixed ratios.
* ``cache``   - trained models stored under a key of their settings and of the code that trains them.
* ``checks``  - the exercises' checks: a right answer or a one-line message that says what is wrong.
* ``student`` - the student edition: the chapters without their solutions, as notebooks and as a book.
* ``assignments`` - the chapters as an nbgrader course: solution, test and task cells from the same notebooks.
* ``exercises`` - a chapter's exercises and their cells, read from the tags of CONTRIBUTING.md's convention.
* ``solutions`` - a code exercise's reference solution cut to its definition, between nbgrader's markers.
* ``myst``    - the book's MyST markdown as plain Markdown, with the HTML's equation and exercise numbers.
* ``colab``   - the hidden install cell that lets a chapter run in Google Colab.
* ``toc``     - the table of contents, read by the student edition, the tests and the benchmarks.

The chapters use these entry points only: ``budget``, ``BUDGETS``, ``trained_gan``, ``trained_classifier``,
``recipes``, ``step_costs`` and ``checks``. The concept modules of ``gan_lib`` never import this package.
"""
from . import checks, recipes, step_costs
from .budgets import BUDGETS, Budget, budget
from .cache import trained_classifier, trained_gan

__all__ = ["BUDGETS", "Budget", "budget", "checks", "recipes", "step_costs", "trained_classifier", "trained_gan"]
