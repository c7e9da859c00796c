-- Tags with who asked and why, with their history: the newest row of a study is its tag
-- (tag '' when it was taken off). studies.tag keeps the current one for the lists.
CREATE TABLE study_tags (
    id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    requested_by TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    user TEXT NOT NULL DEFAULT '',
    station TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX study_tags_study ON study_tags(study_id, id);
-- Second-read requests for billing: made by a 'second-read' tag; the back office attaches
-- the order (accession) and moves the billing state: order needed -> ordered -> read ->
-- billed (or cancelled when the tag is taken off before the read).
CREATE TABLE second_reads (
    id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    mrn TEXT NOT NULL,
    accession TEXT NOT NULL DEFAULT '',
    requested_by TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX second_reads_study ON second_reads(study_id);
-- The HL7 outbox: one message per second read and kind (order, charge), built once (its
-- MSH-10 never changes, so a resend after a crash is recognised by the receiver) and
-- delivered over MLLP until it is acknowledged.
CREATE TABLE hl7_outbox (
    id INTEGER PRIMARY KEY,
    second_read_id INTEGER NOT NULL REFERENCES second_reads(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    message_type TEXT NOT NULL,
    control_id TEXT NOT NULL UNIQUE,
    message TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    ack_code TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    claimed_by TEXT NOT NULL DEFAULT '',
    claimed_at TEXT NOT NULL DEFAULT '',
    next_attempt_at TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (second_read_id, kind)
);
CREATE INDEX hl7_outbox_state ON hl7_outbox(state, next_attempt_at);
