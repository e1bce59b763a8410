"""Command modules of the ``dyadlab`` command line; each defines ``register(app)``."""
