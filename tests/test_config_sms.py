"""The [sms], [reports] and phone retention keys: defaults, relative folders, and mistakes named on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from paihao.config import load_config
from paihao.errors import ConfigError

ROOT = Path(__file__).parents[1]
SMALL = ROOT / "tests" / "hall.toml"


def with_sections(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hall.toml"
    path.write_text(text + "\n" + SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def test_defaults():
    config = load_config(SMALL)
    assert (config.sms.enabled, config.sms.reply_window, config.sms.resend) == (True, "72h", "60s")
    assert config.storage.phone_retention_days == 180
    score = config.reports.score
    assert (score.satisfied, score.basic, score.unsatisfied, score.yellow_penalty, score.red_penalty) == (
        100, 60, 0, 1, 3)
    assert config.reports.folder == str(ROOT / "tests" / "reports")  # relative to the config file


def test_sections_as_written(tmp_path):
    config = load_config(with_sections(tmp_path, (
        '[sms]\nenabled = false\ntemplate = "{dept}{ticket}：请回复1/2/3"\nopted_out = ""\nreply_window = "24h"\n'
        '[reports]\nfolder = "/srv/reports"\n[reports.score]\nbasic = 70\nred_penalty = 5\n')))
    assert (config.sms.enabled, config.sms.template, config.sms.opted_out) == (False, "{dept}{ticket}：请回复1/2/3", "")
    assert config.reports.folder == "/srv/reports"
    score = config.reports.score
    assert (score.basic, score.red_penalty, score.satisfied) == (70, 5, 100)


@pytest.mark.parametrize("section, expected", [
    ('[sms]\ntemplate = "{hall}{phone}"', "sms.template: {phone} is not one of {hall}, {date}, {window}, {item},"),
    ('[sms]\nhelp = "{window}请回复"', "sms.help: {window} is not one of {hall}"),
    ('[sms]\ntemplate = "请回复{1满意"', "sms.template: '请回复{1满意': expected '}' before end of string"),
    ('[sms]\ntemplate = ""', "sms.template: String should have at least 1 character"),
    ('[sms]\nreply_window = "3d"', 'sms.reply_window: \'3d\' is not a duration such as "90s"'),
    ('[sms]\nresnd = "60s"', 'sms.resnd: unknown key; did you mean "resend"?'),
    ('[reports.score]\nyellow = 1', 'reports.score.yellow: unknown key'),
    ('[reports.score]\nbasic = -1', "reports.score.basic: Input should be greater than or equal to 0"),
    ('[sms]\nreply_window = "72h"\n[storage]\nphone_retention_days = 2',
     "storage.phone_retention_days: shorter than [sms] reply_window"),
], ids=["unknown-field", "help-field", "unclosed-brace", "empty-template", "days-are-no-duration", "misspelt-key",
        "unknown-score-key", "negative-points", "retention-shorter-than-window"])
def test_a_mistake_is_named_on_load(tmp_path, section, expected):
    text = SMALL.read_text(encoding="utf-8")
    if "[storage]" in section:
        text = text.replace('[storage]\ndb = "hall.db"\n', "")
        section = section.replace("[storage]\n", '[storage]\ndb = "hall.db"\n')
    path = tmp_path / "hall.toml"
    path.write_text(section + "\n" + text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert expected in str(raised.value)
