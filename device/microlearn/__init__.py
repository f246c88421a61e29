# microlearn for MicroPython: native modules `trees` (and more) live in this package.
__version__ = "0.1.0"
