"""Firstring: one inbox for every channel, answered on the first ring."""

__version__ = "0.1.0"
