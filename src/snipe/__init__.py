"""snipe: book popular gym slots the instant they unlock, across several accounts."""

__version__ = "0.1.0"
