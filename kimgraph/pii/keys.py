"""Keys derived from KIMGRAPH_SECRET_KEY and the stored form of an encrypted value.

A stored value is `pii1:<key id>:<base64url(nonce + AES-256-GCM ciphertext)>`
(docs/privacy.md). The key id names the secret it was written with, so a start
with another secret is refused before anything is read, and rotation knows
which rows still carry an old key. What the value is (its column, the
"purpose") is the associated data: a contact copied into the name column, or
a reporter's name into a webhook's secret, does not decrypt.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MARK = "pii1:"
"""How every encrypted value starts; a value without it predates encryption."""
_SALT = b"kimgraph personal data"
_NONCE_BYTES = 12


class PersonalDataKeyError(Exception):
    """Personal data cannot be read or written with the keys configured."""


def _derive(secret: str, info: bytes, length: int) -> bytes:
    kdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=info)
    return kdf.derive(secret.encode())


class Key:
    """One secret's AES-256-GCM key and its public id (derived apart: HKDF)."""

    __slots__ = ("_aead", "id")

    def __init__(self, secret: str) -> None:
        self.id = _derive(secret, b"key id v1", 4).hex()
        self._aead = AESGCM(_derive(secret, b"aes-256-gcm v1", 32))

    def seal(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), purpose.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{MARK}{self.id}:{body}"

    def open(self, body: str, purpose: str) -> str:
        raw = base64.urlsafe_b64decode(body.encode())
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        return self._aead.decrypt(nonce, sealed, purpose.encode()).decode()


def key_id_of(stored: str) -> str | None:
    """The key id an encrypted value names; None for a value stored in clear."""
    if not stored.startswith(MARK):
        return None
    return stored[len(MARK) :].split(":", 1)[0]


class Keyring:
    """The current key (writes) and the previous ones (reads during a rotation)."""

    def __init__(self, secret: str, previous: Iterable[str] = ()) -> None:
        self.current = Key(secret)
        self._keys = {self.current.id: self.current}
        for old in previous:
            key = Key(old)
            self._keys.setdefault(key.id, key)

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def encrypt(self, plaintext: str, purpose: str) -> str:
        return self.current.seal(plaintext, purpose)

    def decrypt(self, stored: str, purpose: str) -> str:
        """The plaintext of a stored value; a value in clear is returned as it is."""
        kid = key_id_of(stored)
        if kid is None:
            return stored
        key = self._keys.get(kid)
        if key is None:
            raise PersonalDataKeyError(unknown_key_message(kid))
        try:
            return key.open(stored.split(":", 2)[2], purpose)
        except (InvalidTag, ValueError):
            raise PersonalDataKeyError(
                f"the {purpose} written with key {kid} fails its integrity check"
            ) from None


def unknown_key_message(kid: str) -> str:
    return (
        "KIMGRAPH_SECRET_KEY does not match the key personal data and webhook "
        f"secrets were encrypted with (key id {kid}); set the secret they were "
        "written with, or the new one with the old one in "
        "KIMGRAPH_SECRET_KEY_PREVIOUS (docs/privacy.md)"
    )


NO_KEY_MESSAGE = (
    "KIMGRAPH_SECRET_KEY is unset but the database holds encrypted personal data "
    "or webhook secrets; set it to the secret they were written with "
    "(docs/privacy.md)"
)

_installed: Keyring | None = None


def install(keyring: Keyring | None) -> None:
    """Make keyring the one every personal-data field of this process uses."""
    global _installed
    _installed = keyring


def installed() -> Keyring | None:
    return _installed


def seal(text: str, purpose: str) -> str:
    """text as this process stores it: encrypted, or in clear without a keyring."""
    if _installed is None:
        return text
    return _installed.encrypt(text, purpose)


def unseal(stored: str, purpose: str) -> str:
    """The plaintext of a stored value with this process's keyring."""
    if key_id_of(stored) is None:
        return stored
    if _installed is None:
        raise PersonalDataKeyError(NO_KEY_MESSAGE)
    return _installed.decrypt(stored, purpose)
