-- Retention: originals and ID-card images are purged a configured time after export.
ALTER TABLE cases ADD COLUMN exported_at BIGINT;
ALTER TABLE cases ADD COLUMN purged_at BIGINT;
CREATE INDEX cases_exported ON cases (state, exported_at);
