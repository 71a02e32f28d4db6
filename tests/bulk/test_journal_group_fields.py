"""Journal schema 4: a create group's fields are kept (for undo); older journals gain the column."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from nexudus_async.bulk.journal import SCHEMA_VERSION, Journal

SCHEMA_3_GROUPS = """
CREATE TABLE jobs (job_id TEXT PRIMARY KEY, entity TEXT NOT NULL, source TEXT,
    since TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
    groups INTEGER NOT NULL, records INTEGER NOT NULL);
CREATE TABLE groups (job_id TEXT NOT NULL REFERENCES jobs(job_id), group_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('sending', 'done', 'failed')),
    expected INTEGER NOT NULL, baseline INTEGER NOT NULL, created INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0, last_error TEXT, updated_at TEXT NOT NULL,
    PRIMARY KEY (job_id, group_key)) WITHOUT ROWID;
INSERT INTO jobs VALUES ('j', 'coworker_time_passes', 'p.csv', '2026-12-01T00:00:00',
    '2026-12-01T00:00:00', NULL, 1, 2);
INSERT INTO groups VALUES ('j', 'g', 'done', 2, 0, 2, 1, NULL, '2026-12-01T00:00:00');
PRAGMA user_version = 3;
"""


def test_a_groups_fields_are_kept_from_its_first_intent_and_read_back(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.open_job("j", entity="coworker_time_passes", groups=2, records=3, since="s")
        fields = {"CoworkerId": 42, "TimePassId": 7, "Price": Decimal("9.50")}
        journal.mark_sending("j", "g1", expected=2, baseline=0, fields=fields)
        journal.mark_sending("j", "g1", expected=2, baseline=1)  # a later intent keeps them
        journal.mark_sending("j", "g2", expected=1, baseline=0)
        assert journal.group_fields("j") == {
            "g1": {"CoworkerId": 42, "TimePassId": 7, "Price": "9.50"}
        }
        assert journal.groups("j")["g1"].baseline == 1


def test_a_schema_3_journal_opens_gains_the_column_and_keeps_its_groups(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_3_GROUPS)
    db.close()
    with Journal(path) as journal:
        assert journal.group_fields("j") == {}
        group = journal.groups("j")["g"]
        assert (group.state, group.created, group.expected) == ("done", 2, 2)
    db = sqlite3.connect(path)
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        columns = [r[1] for r in db.execute("PRAGMA table_info(groups)")]
    finally:
        db.close()
    assert version == SCHEMA_VERSION == 4
    assert columns[-1] == "fields"
