-- Whether an instance ever reached its destination, kept when its row is held or queued
-- again (a re-import, a reconciliation): what the PACS holds under an old identity is
-- corrected from this, not from the row's current state, which a re-queue changes.
ALTER TABLE outbox ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET delivered = 1 WHERE state = 'sent';
