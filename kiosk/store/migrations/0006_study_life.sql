-- One owner of a study's life (kiosk/lifecycle.py): what a crash must not lose.
-- target: the identity the user confirmed (JSON), recorded when the import starts, so a
-- recovery sweep can finish the coercion from the spool alone.
-- expected_instances: how many files the copy must bring (an incomplete copy is named).
-- original_birth_date / original_sex: the disc's demographics, checked again on reconcile.
-- hold_reason: why a study is held for the back office (no order, MRN not confirmed, ...).
ALTER TABLE studies ADD COLUMN target TEXT NOT NULL DEFAULT '';
ALTER TABLE studies ADD COLUMN expected_instances INTEGER NOT NULL DEFAULT 0;
ALTER TABLE studies ADD COLUMN original_birth_date TEXT NOT NULL DEFAULT '';
ALTER TABLE studies ADD COLUMN original_sex TEXT NOT NULL DEFAULT '';
ALTER TABLE studies ADD COLUMN hold_reason TEXT NOT NULL DEFAULT '';
-- The process (host:pid:start) importing or reconciling the study until it is queued:
-- the recovery sweep leaves a study alone while that process lives.
ALTER TABLE studies ADD COLUMN worker TEXT NOT NULL DEFAULT '';
-- The SHA-256 of the coerced file the outbox sends: a file that no longer matches is
-- quarantined, never sent.
ALTER TABLE instances ADD COLUMN coerced_sha256 TEXT NOT NULL DEFAULT '';
-- A study sent under one identity and corrected to another: the old copy at the PACS is
-- flagged for its administrator (and rejected by an IOCM note where the PACS takes one).
CREATE TABLE corrections (
    id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
    destination TEXT NOT NULL,
    old_study_instance_uid TEXT NOT NULL,
    old_mrn TEXT NOT NULL,
    old_accession TEXT NOT NULL,
    new_mrn TEXT NOT NULL,
    new_accession TEXT NOT NULL,
    instances TEXT NOT NULL,
    old_identity TEXT NOT NULL,
    rejection_note TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX corrections_note ON corrections(rejection_note);
-- Destinations that accepted an association but refused study queries (C-FIND): the
-- check before sending cannot ask them; probed again after unsupported_until.
CREATE TABLE destination_queries (
    destination TEXT PRIMARY KEY,
    unsupported_until TEXT NOT NULL
);
