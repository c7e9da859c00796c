-- The spool's checksum columns are named for what they hold, the digest of
-- kiosk/digest.py (SHA-256), not for one algorithm.
ALTER TABLE instances RENAME COLUMN original_sha256 TO original_digest;
ALTER TABLE instances RENAME COLUMN coerced_sha256 TO coerced_digest;
