-- What the back office needs to recognise a study: the disc's date, description and modalities.
ALTER TABLE studies ADD COLUMN study_date TEXT NOT NULL DEFAULT '';
ALTER TABLE studies ADD COLUMN study_description TEXT NOT NULL DEFAULT '';
ALTER TABLE studies ADD COLUMN modalities TEXT NOT NULL DEFAULT '';
