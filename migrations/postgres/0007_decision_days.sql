-- Which days of decisions changed, per school: statistics keep each (school, day)'s grouped
-- decisions in memory and regroup a day only when its version here has moved. A trigger bumps
-- the version of the day (China Standard Time, UTC+8) of every decision inserted, changed or
-- deleted, whatever code wrote it, in the writing transaction. Decisions without a school
-- are kept under ''.
CREATE TABLE decision_days (
    school_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (school_id, day)
);
INSERT INTO decision_days (school_id, day, version)
    SELECT COALESCE(school_id, ''), (decided_at + 28800000) / 86400000, 1
    FROM decisions GROUP BY 1, 2;
CREATE FUNCTION decision_days_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO decision_days (school_id, day, version)
            VALUES (COALESCE(OLD.school_id, ''), (OLD.decided_at + 28800000) / 86400000, 1)
            ON CONFLICT (school_id, day) DO UPDATE SET version = decision_days.version + 1;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO decision_days (school_id, day, version)
            VALUES (COALESCE(NEW.school_id, ''), (NEW.decided_at + 28800000) / 86400000, 1)
            ON CONFLICT (school_id, day) DO UPDATE SET version = decision_days.version + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER decision_days_touch AFTER INSERT OR UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION decision_days_touch();
