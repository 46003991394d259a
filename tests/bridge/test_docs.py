"""The docs say what the bridge does: every config key documented, the examples shaped as sent."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bus.payloads import SmsCancel, SmsInbox, SmsOutbox, SmsSent
from paihao.device_config import Bridge, FakeModem, SerialModem
from tests.bridge.conftest import ready

DOCS = Path(__file__).parents[2] / "docs"


def section(path: Path, heading: str) -> str:
    text = path.read_text(encoding="utf-8")
    start = text.index(heading)
    following = re.search(r"\n#{2,3} ", text[start + len(heading):])
    return text[start:start + len(heading) + (following.start() if following else len(text))]


def examples(text: str) -> list[dict]:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]


def test_every_bridge_key_is_in_the_config_reference():
    documented = section(DOCS / "config.md", "## `[[bridges]]`")
    for model in (Bridge, SerialModem, FakeModem):
        for name in model.model_fields:
            if name != "type":
                assert f"`{name}`" in documented, f"{model.__name__}.{name} is not in docs/config.md"


def test_the_sms_examples_are_valid_payloads():
    [outbox] = examples(section(DOCS / "protocol.md", "### Send a text"))
    SmsOutbox.model_validate(outbox)
    outcomes = [SmsSent.model_validate(sent) for sent in examples(section(DOCS / "protocol.md", "### The outcome"))]
    assert "cancelled" in [o.error.code for o in outcomes if o.error]
    [cancel] = examples(section(DOCS / "protocol.md", "### Withdraw texts"))
    SmsCancel.model_validate(cancel)
    [inbox] = examples(section(DOCS / "protocol.md", "### A text received"))
    SmsInbox.model_validate(inbox)


def test_the_status_example_has_the_fields_the_bridge_sends(bridge, hall):
    [documented] = examples(section(DOCS / "protocol.md", "### `{root}/bridge/{bridge}/status`"))
    sent = ready(hall)
    assert documented.keys() == sent.keys()
    assert documented["modem"].keys() == sent["modem"].keys()
