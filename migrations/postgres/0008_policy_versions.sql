-- Every version of each school's policy, kept: who changed it and when, for the history an
-- administrator reads and for an edit made on a version someone else has replaced since
-- (`schools.policy_version` is the current one; an update names the version it was made on).
ALTER TABLE schools ADD COLUMN policy_version BIGINT NOT NULL DEFAULT 1;
CREATE TABLE policy_versions (
    school_id TEXT NOT NULL REFERENCES schools(id),
    version BIGINT NOT NULL,
    policy_json TEXT NOT NULL,
    -- The actor as the audit log names it: an account id, or `cli` / `system`.
    changed_by TEXT NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (school_id, version)
);
INSERT INTO policy_versions (school_id, version, policy_json, changed_by, changed_at)
    SELECT id, 1, policy_json, 'system', created_at FROM schools;
