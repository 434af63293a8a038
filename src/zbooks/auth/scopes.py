"""The OAuth scopes zbooks asks for unless told otherwise.

A module of its own so that building a client (whose signature shows the default) does
not load the OAuth client code, which only a refresh or a login needs.
"""

from __future__ import annotations

DEFAULT_SCOPES = ("ZohoBooks.fullaccess.all",)

__all__ = ["DEFAULT_SCOPES"]
