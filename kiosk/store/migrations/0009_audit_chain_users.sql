-- The audit trail proves itself: each record holds the SHA-256 of its canonical form and
-- of the record before it (kiosk/store/audit_chain.py); the rows already there are
-- hashed in order by the migration's Python step (kiosk/store/db.py).
ALTER TABLE audit ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT '';
-- The newest record's id and hash: a record removed from the end is noticed too.
CREATE TABLE audit_head (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    last_id INTEGER NOT NULL,
    last_hash TEXT NOT NULL
);
-- IHE ATNA export: each record waits here until the audit collector got it, in order.
-- state: queued, sending (written to the collector, not yet confirmed locally), sent,
-- uncertain (a crash between writing and confirming: never written twice).
CREATE TABLE atna_queue (
    audit_id INTEGER PRIMARY KEY REFERENCES audit(id),
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX atna_queue_state ON atna_queue(state, audit_id);
-- The records written before this version wait for the collector too.
INSERT INTO atna_queue (audit_id, state, updated_at) SELECT id, 'queued', time FROM audit;
-- One process sends to the collector at a time (the window and a scheduled `kiosk send`
-- alike): it holds this lease until the time given, renewed while it sends.
CREATE TABLE atna_sender (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    holder TEXT NOT NULL,
    until TEXT NOT NULL
);
-- Who may sign in, and with which role (kiosk/access.py); passwords as argon2 hashes.
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
