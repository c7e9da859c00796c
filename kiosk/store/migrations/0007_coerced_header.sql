-- Coercion on the way out: the spool keeps one copy of each instance, its untouched
-- original. What the PACS receives is the coerced header (preamble, file meta and every
-- element before the pixel data, identity coerced, originals in Original Attributes)
-- followed by the original's bytes from tail_at on. coerced_header holds that header;
-- coerced_sha256 is then its SHA-256, and the original is checked against
-- original_sha256 before it is sent. A row with an empty coerced_header is sent as the
-- file at coerced_path, checked against coerced_sha256 (rows queued before this one).
ALTER TABLE instances ADD COLUMN coerced_header BLOB NOT NULL DEFAULT x'';
ALTER TABLE instances ADD COLUMN tail_at INTEGER NOT NULL DEFAULT 0;
