"""Column types encrypted on every write: reporters' personal data, webhook secrets.

Tortoise fields, so every path through the ORM (create, save, update, values)
encrypts on the way in, and no caller changes. Without a key a value is stored
as given (start-up warns, docs/privacy.md); a value in clear, from before
encryption or without a key, reads as it is. Filtering on these columns cannot
work (each write has a fresh nonce): nothing does, and nothing should.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise import fields
from tortoise.models import Model

from kimgraph.pii import keys

WEBHOOK_SECRET = "webhook_endpoint.secret"
"""A webhook secret's associated data: no other column's ciphertext opens as one."""


class PersonalDataField(fields.TextField):
    """TEXT holding `pii1:<key id>:<ciphertext>`, or NULL once erased."""

    def to_db_value(self, value: Any, instance: type[Model] | Model) -> str | None:
        if value is None:
            return None
        return keys.seal(str(value), self.model_field_name)

    def to_python_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return keys.unseal(str(value), self.model_field_name)


@dataclass(frozen=True, slots=True, repr=False)
class SealedSecret:
    """A webhook's signing secret as stored; reveal() decrypts it, to sign only.

    Equal when stored equal: a row read twice compares equal (a snapshot).
    """

    stored: str

    @classmethod
    def of(cls, text: str) -> SealedSecret:
        """A stored value kept as it is; a secret in clear sealed now."""
        if keys.key_id_of(text) is not None:
            return cls(text)
        return cls(keys.seal(text, WEBHOOK_SECRET))

    def reveal(self) -> str:
        """The secret itself: PersonalDataKeyError if this process cannot open it."""
        return keys.unseal(self.stored, WEBHOOK_SECRET)

    def __repr__(self) -> str:
        return "SealedSecret(…)"  # never the secret, not even its ciphertext


class SigningSecretField(fields.Field[SealedSecret]):
    """TEXT holding a webhook secret as `pii1:<key id>:<ciphertext>`.

    Unlike personal data it is not decrypted when read: the row carries a
    SealedSecret, opened only where a request is signed (docs/webhooks.md).
    """

    SQL_TYPE = "TEXT"
    indexable = False
    # What the column holds (and what 0017 altered it from a CharField to).
    field_type = str

    def to_db_value(self, value: Any, instance: type[Model] | Model) -> str | None:
        if value is None:
            return None
        return self.to_python_value(value).stored

    def to_python_value(self, value: Any) -> SealedSecret:
        if isinstance(value, SealedSecret):
            return value
        return SealedSecret.of(str(value))
