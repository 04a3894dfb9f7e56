"""What every app's privacy module shares: how a stored row becomes part of a person's data
export, and what erased free text is replaced with.

Each app has a `privacy` module (peermentor/<app>/privacy.py) that answers two questions about
one person for its own tables: what do we hold (`personal_data`, a read) and how is it erased
(`personal_data_erase`, a write). Both halves sit in one module on purpose: whoever adds a field
that holds personal data finds, in the same screen, the export that must show it and the erasure
that must remove it. peermentor.flows.privacy puts the apps' halves together (docs/privacy.md).
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import models

# What a free text someone wrote becomes when they are erased: the row stays, so counts and the
# partner's view of the connection stay as they were, but the words are gone.
ERASED_TEXT = "(erased)"

# One exported row: field name → a JSON-ready value.
Record = dict[str, Any]


def plain(value: Any) -> Any:
    """`value` as JSON can hold it: dates and times in ISO 8601 (UTC), decimals and UUIDs as
    strings, lists and dicts element by element."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, models.Model):
        return str(value)
    return value


def record(instance: models.Model, fields: Sequence[str], **extra: Any) -> Record:
    """The named fields of one row (choice fields by their label, foreign keys by their id) and
    any `extra` values, JSON-ready."""
    row: Record = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if isinstance(field, models.ForeignKey):
            row[name] = getattr(instance, field.attname)
        elif getattr(field, "choices", None):
            row[name] = getattr(instance, f"get_{name}_display")()
        else:
            row[name] = plain(getattr(instance, name))
    row.update({key: plain(value) for key, value in extra.items()})
    return row


def records(instances: Iterable[models.Model], fields: Sequence[str]) -> list[Record]:
    return [record(instance, fields) for instance in instances]


def withheld(count: int, what: str) -> Record:
    """Stands in for content the viewer may not read (an admin exporting someone's data never
    sees their private notes): says how many rows there are and where the person finds them."""
    return {
        "withheld": count,
        "note": f"{count} {what} kept private from administrators: the person downloads them "
        "from their own Preferences page.",
    }
