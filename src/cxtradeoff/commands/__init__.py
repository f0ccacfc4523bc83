"""Subcommands of the ``cxtradeoff`` command line, one module each."""
