"""megatest: a Python reimplementation of the Megatest regression harness."""

__version__ = "0.1.0"
