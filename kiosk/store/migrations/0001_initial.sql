-- The first schema: studies with their state machine, instances, the outbox, the audit trail.
CREATE TABLE studies (
    id INTEGER PRIMARY KEY,
    study_instance_uid TEXT NOT NULL,
    new_study_instance_uid TEXT NOT NULL,
    original_patient_id TEXT NOT NULL DEFAULT '',
    original_issuer TEXT NOT NULL DEFAULT '',
    mrn TEXT NOT NULL DEFAULT '',
    accession_number TEXT NOT NULL DEFAULT '',
    destination TEXT NOT NULL DEFAULT '',
    tag TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    spool_dir TEXT NOT NULL DEFAULT '',
    station TEXT NOT NULL DEFAULT '',
    user TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX studies_uid ON studies(study_instance_uid);
CREATE INDEX studies_state ON studies(state);

CREATE TABLE instances (
    id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    sop_instance_uid TEXT NOT NULL,
    sop_class_uid TEXT NOT NULL,
    transfer_syntax_uid TEXT NOT NULL DEFAULT '',
    source_relpath TEXT NOT NULL,
    original_path TEXT NOT NULL DEFAULT '',
    original_sha256 TEXT NOT NULL DEFAULT '',
    coerced_path TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL DEFAULT 0,
    UNIQUE (study_id, sop_instance_uid)
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    instance_id INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    destination TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    claimed_by TEXT NOT NULL DEFAULT '',
    claimed_at TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    UNIQUE (instance_id, destination)
);
CREATE INDEX outbox_state ON outbox(destination, state);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    user TEXT NOT NULL DEFAULT '',
    station TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    study_instance_uid TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_time ON audit(time);
