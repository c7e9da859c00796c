-- Destinations that could not be reached (association refused, connection refused or
-- dropped): how many times in a row, since when, and when the outbox may try again.
-- A row exists only while a destination is down; a successful association removes it.
CREATE TABLE destination_health (
    destination TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    down_since TEXT NOT NULL,
    last_error TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL
);
