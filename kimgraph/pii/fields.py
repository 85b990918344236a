"""The column type of reporter names and contacts: encrypted on every write.

A Tortoise field, so every path through the ORM (create, save, update, values)
encrypts on the way in and decrypts on the way out, and no caller changes.
Without a key the value is stored as given (start-up warns, docs/privacy.md);
a value in clear, from before encryption or without a key, reads as it is.
Filtering on these columns cannot work (each write has a fresh nonce): nothing
does, and nothing should.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from kimgraph.pii import keys


class PersonalDataField(fields.TextField):
    """TEXT holding `pii1:<key id>:<ciphertext>`, or NULL once erased."""

    def to_db_value(self, value: Any, instance: type[Model] | Model) -> str | None:
        if value is None:
            return None
        keyring = keys.installed()
        text = str(value)
        if keyring is None:
            return text
        return keyring.encrypt(text, self.model_field_name)

    def to_python_value(self, value: Any) -> str | None:
        if value is None:
            return None
        text = str(value)
        if keys.key_id_of(text) is None:
            return text
        keyring = keys.installed()
        if keyring is None:
            raise keys.PersonalDataKeyError(keys.NO_KEY_MESSAGE)
        return keyring.decrypt(text, self.model_field_name)
