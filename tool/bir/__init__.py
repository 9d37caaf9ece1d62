"""bir: the register of the managed infrastructure, as code."""

__version__ = "0.1.0"
