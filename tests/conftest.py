"""Shared fixtures. Tests talk only to loopback or in-process transports."""

# `pytester` runs small user test files against the zbooks pytest plugin (tests/testing).
pytest_plugins = ("pytester",)
