"""The sync client and its resources.

Generated from pytake/_async/__init__.py by scripts/unasync.py: do not edit."""
