-- Spool checksums are no longer SHA-256 alone (kiosk/digest.py): new ones are
-- xxh3-128, written "xxh3-128:<hex>"; those recorded before (64 hex digits) stay
-- SHA-256 and still check. The columns are named for what they hold.
ALTER TABLE instances RENAME COLUMN original_sha256 TO original_digest;
ALTER TABLE instances RENAME COLUMN coerced_sha256 TO coerced_digest;
