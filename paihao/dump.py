"""The effective config, as ``paihao check-config --dump`` prints it: secrets masked.

A secret is any field declared ``repr=False`` (the broker password, a SIM's
PIN, …), so a secret added later is masked without touching this module.
"""

from __future__ import annotations

from pydantic import BaseModel

MASK = "********"


def masked(model: BaseModel) -> dict:
    """``model_dump(mode="json")`` with every set secret replaced by ``MASK``."""
    data = model.model_dump(mode="json")
    _mask(model, data)
    return data


def _mask(model: BaseModel, data: dict) -> None:
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if field.repr is False and value is not None:
            data[name] = MASK
        elif isinstance(value, BaseModel):
            _mask(value, data[name])
        elif isinstance(value, (list, tuple)):
            for item, dumped in zip(value, data[name]):
                if isinstance(item, BaseModel):
                    _mask(item, dumped)
