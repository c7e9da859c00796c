-- Sending: retry schedule per outbox row, and storage commitment requests per study and destination.
ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_due ON outbox(destination, state, next_attempt_at);

CREATE TABLE commitments (
    id INTEGER PRIMARY KEY,
    transaction_uid TEXT NOT NULL UNIQUE,
    study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    destination TEXT NOT NULL,
    state TEXT NOT NULL,
    instances INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '',
    requested_at TEXT NOT NULL,
    answered_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX commitments_study ON commitments(study_id, destination);
