"""Zoho Accounts (OAuth 2.0) emulator: consent, grant codes, tokens, limits, revocation.

``AccountsService`` holds the rules; ``scope_allows`` is what the Books layer asks when
a request needs a scope. See api-facts §1 for the behaviour reproduced here.
"""

from zbooks.sandbox.accounts.scopes import scope_allows
from zbooks.sandbox.accounts.service import AccessGrant, AccountsService, OAuthError

__all__ = ["AccessGrant", "AccountsService", "OAuthError", "scope_allows"]
