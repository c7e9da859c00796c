-- When each outbox row was (last) queued: an instance not delivered within the site's
-- maximum age moves to 'failed' for the back office instead of waiting for ever.
ALTER TABLE outbox ADD COLUMN queued_at TEXT NOT NULL DEFAULT '';
UPDATE outbox SET queued_at = updated_at;
