-- What the medium lacked for a study when it was imported: files of the disc (or its index)
-- that could not be read and may be its images, and its images left out because another
-- image of the study has their SOP Instance UID; and whether the user was told (the import
-- exits 6 for them). An import a crash interrupted before it could say so is told by the
-- next kiosk send (exit 6) or the app; kiosk queue shows the counts.
ALTER TABLE studies ADD COLUMN unread_on_medium INTEGER NOT NULL DEFAULT 0;
ALTER TABLE studies ADD COLUMN clashing_on_medium INTEGER NOT NULL DEFAULT 0;
ALTER TABLE studies ADD COLUMN gaps_told INTEGER NOT NULL DEFAULT 1;
