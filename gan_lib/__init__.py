"""gan_lib: the small library behind the GAN Generator Book. Two rooms, kept apart.

The concepts: what the book teaches, one idea per module, named for it.

* ``data``        - Fashion-MNIST and MNIST as tensors in [-1, 1]; the train / validation / test splits.
* ``models``      - the seed's MLP generator and discriminator, chapter 5's DCGAN, and ``build(recipe)``.
* ``losses``      - binary cross-entropy, the discriminator's and the generator's losses, R1 (chapters 2, 6).
* ``theory``      - the optimal discriminator, divergences and the 1-D Gaussian examples (chapter 2).
* ``backprop``    - the generator's gradient written by hand, layer by layer (chapter 3).
* ``optim``       - SGD and Adam written by hand (chapter 3).
* ``train``       - the alternating training loop, its recipe and its history (chapter 4).
* ``spectral_norm`` - spectral normalisation of D's layers, its backward pass written by hand (chapter 4).
* ``ema``         - the moving average of the generator's weights that the book's recipe samples from (chapter 4).
* ``checkpoint``  - checkpoints never half-written, and runs resumed bit for bit (chapter 4).
* ``stats``       - comparing runs over seeds: paired intervals and the chance of a verdict by luck (chapters 4-9).
* ``classifier``  - the small CNN whose features the book's Frechet distance compares (chapters 4, 7).
* ``metrics``     - Frechet distance, Inception Score, class histograms, nearest neighbours (chapter 7).
* ``feature_metrics`` - precision and recall, density and coverage, KID: scores of feature sets (chapter 7).
* ``memorisation`` - has a generator copied its training images? The data-copying test, membership AUCs (chapters 7, 8).
* ``latent``      - walks in the latent space: straight lines and great circles between two codes (chapter 7).
* ``plots``       - the book's figures, the training curves and the animation of sample grids.
* ``dirac``       - the Dirac-GAN, the smallest unstable GAN (chapter 6).
* ``mixtures``    - the 2-D Gaussian mixtures and their mode-collapse metric (chapter 6).
* ``toy``         - small 2-D GANs, many seeds trained at once, and PacGAN (chapter 6).
* ``conditional`` - the class label as a second input to both networks (chapter 8).
* ``augment``     - differentiable augmentation (DiffAugment) of real and fake images, for little data (chapter 8).
* ``history``     - what the loop records each step (HISTORY_KEYS), kept on the device, and TrainingDiverged (chapter 4).
* ``diagnose``    - is my GAN broken? Findings from a run's curves in plain words, and a recorder for your loop (chapter 9).
* ``bug_zoo``     - the bugs people really make, each the correct loop with one line changed (chapter 9).
* ``runtime``     - the device and the seeds, so every chapter runs anywhere and repeats exactly.
* ``precision``   - bf16 autocast for the command line's ``--bf16``, only where bf16 is native (the book stays fp32).
* ``cli``         - ``python -m gan_lib ...``: data, train, sample, evaluate, diagnose, cache, assignments. It sits
  on top of both rooms.

The machinery: ``gan_lib.machinery``, what runs the book and teaches nothing about GANs (budgets,
recipes, the model cache, exercise checks, the student edition, Colab cells, the table of contents).
No concept module imports it. Outside the package: ``benchmarks/`` (speed, chapter times, the recipe
search) and ``tests/`` (one test file per module).
"""
__version__ = "0.2.0"
