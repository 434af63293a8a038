"""Authenticated encryption of secrets at rest, with key rotation (``ZBOOKS_ENCRYPTION_KEY``).

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) authenticates every token, so a
tampered or wrongly keyed value fails loudly instead of decrypting to garbage.
``ZBOOKS_ENCRYPTION_KEY`` holds one key or several separated by commas: the first
encrypts, all decrypt (`MultiFernet`), so a key is rotated by putting the new one first,
running `Cipher.rotate` over the stored values (``zbooks connections rotate-key``), then
dropping the old one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from zbooks.auth.tokens import Token
from zbooks.errors import ConfigurationError

ENV_KEY = "ZBOOKS_ENCRYPTION_KEY"


class Cipher:
    """Encrypts with the first key, decrypts with any. Its repr never shows a key."""

    def __init__(self, keys: str | list[str]) -> None:
        raw = keys.split(",") if isinstance(keys, str) else keys
        cleaned = [k.strip() for k in raw if k.strip()]
        if not cleaned:
            raise ConfigurationError(
                f"{ENV_KEY} is empty.",
                hint="Create a key with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`.",
            )
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in cleaned])
        except ValueError:
            raise ConfigurationError(
                f"{ENV_KEY} is not a list of Fernet keys (32 url-safe base64 bytes each).",
                hint="Generate one with cryptography.fernet.Fernet.generate_key().",
            ) from None
        self.key_count = len(cleaned)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Cipher:
        environ = os.environ if env is None else env
        value = environ.get(ENV_KEY, "")
        if not value.strip():
            raise ConfigurationError(
                f"Secrets are encrypted at rest and {ENV_KEY} is not set.",
                hint=f"Set {ENV_KEY} to a Fernet key (comma-separated keys to rotate).",
            )
        return cls(value)

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigurationError(
                "A stored secret cannot be decrypted with the configured keys.",
                hint=f"Put the key it was encrypted with into {ENV_KEY} (comma-separated).",
            ) from None

    def rotate(self, token: str) -> str:
        """Re-encrypt `token` under the first key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise ConfigurationError(
                "A stored secret cannot be decrypted with the configured keys.",
                hint=f"Keep the old key in {ENV_KEY} (after the new one) until rotation ends.",
            ) from None

    def __repr__(self) -> str:
        return f"Cipher(keys={self.key_count})"


def seal_token(token: Token, cipher: Cipher | None) -> str:
    """A token as the text a shared store keeps: JSON, encrypted when there is a key."""
    text = json.dumps(token.to_dict())
    return cipher.encrypt(text) if cipher is not None else text


def open_token(text: str, cipher: Cipher | None, name: str) -> Token:
    """The token a shared store kept as ``seal_token`` text."""
    if cipher is not None:
        text = cipher.decrypt(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ConfigurationError(
            f"The stored token {name!r} is not readable JSON.",
            hint=f"If it was stored encrypted, set {ENV_KEY}.",
        ) from None
    return Token.from_dict(data)
