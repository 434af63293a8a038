"""Generation and hashing of every Accounts credential (tokens, codes, secrets, nonces).

Why hashes: the sandbox database is a plain file that people open, copy and attach to bug
reports. Storing only SHA-256 digests means the file never holds a usable credential,
and a lookup by digest is as fast as a lookup by value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string

TOKEN_PREFIX = "1000"
_CLIENT_ID_ALPHABET = string.ascii_uppercase + string.digits


def new_token() -> str:
    """A grant code, access token or refresh token in Zoho's form ``1000.<32hex>.<32hex>``."""
    return f"{TOKEN_PREFIX}.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


def new_client_id() -> str:
    """A client id shaped like the API console's: ``1000.`` plus 30 upper-case characters."""
    tail = "".join(secrets.choice(_CLIENT_ID_ALPHABET) for _ in range(30))
    return f"{TOKEN_PREFIX}.{tail}"


def new_client_secret() -> str:
    """42 hex characters, the length of the console's secrets."""
    return secrets.token_hex(21)


def new_nonce() -> str:
    """A one-time form nonce for the consent page (URL- and HTML-safe)."""
    return secrets.token_urlsafe(24)


def digest(value: str) -> str:
    """SHA-256 hex digest: the only form in which a credential reaches the database."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def digests_equal(left: str, right: str) -> bool:
    """Constant-time comparison of two digests (no timing oracle on secrets)."""
    return hmac.compare_digest(left.encode("ascii"), right.encode("ascii"))


def s256_challenge(verifier: str) -> str:
    """RFC 7636 ``S256``: base64url(SHA-256(verifier)) without padding."""
    raw = hashlib.sha256(verifier.encode("ascii", errors="replace")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    """Whether ``verifier`` answers ``challenge`` under ``method`` (``S256`` or ``plain``)."""
    expected = s256_challenge(verifier) if method.upper() == "S256" else verifier
    return hmac.compare_digest(expected.encode("utf-8"), challenge.encode("utf-8"))
