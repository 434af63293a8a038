"""Shared fixtures. Tests talk only to loopback or in-process transports."""
