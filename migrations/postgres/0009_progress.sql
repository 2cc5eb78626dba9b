-- Collection progress (`domain::progress::Stage`) kept counted, so the administrators'
-- dashboard reads a few hundred rows instead of grouping every student of a school.
-- `cases.progress_stage` is the case's stage: its state, refined by whether an invited case
-- has an active code and whether a paid case has a photo in its round. It is worked out by
-- triggers whenever the state, the round, a code or an attempt of the case changes, whatever
-- code wrote it; `progress_counts` holds the number of cases at each stage per school,
-- college, major and level, moved by triggers when a stage or a student's group changes.
-- Whether a review lease is still live depends on the clock: the store corrects the count of
-- `in_review` when it reads. The stage codes are `Stage::code`.
ALTER TABLE cases ADD COLUMN progress_stage TEXT NOT NULL DEFAULT '';
CREATE FUNCTION progress_stage_of(c cases) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE c.state
        WHEN 'invited' THEN CASE WHEN EXISTS (SELECT 1 FROM codes k WHERE k.case_id = c.id AND k.status = 'active') THEN 'code_not_opened' ELSE 'no_code' END
        WHEN 'claimed' THEN 'opened'
        WHEN 'identity_verified' THEN 'identity_checked'
        WHEN 'ready' THEN CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = c.id AND a.round = c.round) THEN 'photo_taken' ELSE 'paid' END
        WHEN 'pending_review' THEN 'submitted'
        ELSE c.state
    END
$$;
UPDATE cases SET progress_stage = progress_stage_of(cases);
CREATE INDEX cases_progress ON cases (school_id, progress_stage);

CREATE TABLE progress_counts (
    school_id TEXT NOT NULL,
    college TEXT NOT NULL,
    major TEXT NOT NULL,
    level TEXT NOT NULL,
    stage TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (school_id, college, major, level, stage)
);
INSERT INTO progress_counts (school_id, college, major, level, stage, n)
    SELECT c.school_id, s.college, s.major, s.level, c.progress_stage, COUNT(*)
    FROM cases c JOIN students s ON s.id = c.student_id
    GROUP BY c.school_id, s.college, s.major, s.level, c.progress_stage;

-- A move is not counted where it is made: a transaction that moves many cases of one group
-- (a roster import, a batch of codes) would otherwise update one count row thousands of times,
-- and each update of a row already updated in the same transaction costs more than the last.
-- Moves are appended to `progress_moves` and summed into `progress_counts` once, when the
-- transaction commits (a deferred trigger on its one `progress_flushes` row), count rows taken
-- in key order so that two committing transactions cannot deadlock.
CREATE UNLOGGED TABLE progress_moves (
    tx BIGINT NOT NULL,
    school_id TEXT NOT NULL,
    college TEXT NOT NULL,
    major TEXT NOT NULL,
    level TEXT NOT NULL,
    stage TEXT NOT NULL,
    delta BIGINT NOT NULL
);
CREATE INDEX progress_moves_tx ON progress_moves (tx);
CREATE TABLE progress_flushes (tx BIGINT PRIMARY KEY);

CREATE FUNCTION progress_add(school TEXT, college_ TEXT, major_ TEXT, level_ TEXT, stage_ TEXT, delta BIGINT)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO progress_moves (tx, school_id, college, major, level, stage, delta)
        VALUES (txid_current(), school, college_, major_, level_, stage_, delta);
    INSERT INTO progress_flushes (tx) VALUES (txid_current()) ON CONFLICT DO NOTHING;
$$;

CREATE FUNCTION progress_flush() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO progress_counts (school_id, college, major, level, stage, n)
        SELECT school_id, college, major, level, stage, SUM(delta) FROM progress_moves
        WHERE tx = NEW.tx
        GROUP BY school_id, college, major, level, stage
        ORDER BY school_id, college, major, level, stage
        ON CONFLICT (school_id, college, major, level, stage)
        DO UPDATE SET n = progress_counts.n + EXCLUDED.n;
    DELETE FROM progress_moves WHERE tx = NEW.tx;
    DELETE FROM progress_flushes WHERE tx = NEW.tx;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER progress_flush AFTER INSERT ON progress_flushes
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION progress_flush();

-- A case's stage follows its state and round as they are written.
CREATE FUNCTION progress_case_stage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.progress_stage := progress_stage_of(NEW);
    RETURN NEW;
END
$$;
CREATE TRIGGER progress_case_stage BEFORE INSERT OR UPDATE OF state, round ON cases
    FOR EACH ROW EXECUTE FUNCTION progress_case_stage();

-- The counts follow the stages.
CREATE FUNCTION progress_case_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    g RECORD;
BEGIN
    SELECT college, major, level INTO g FROM students WHERE id = NEW.student_id;
    PERFORM progress_add(NEW.school_id, g.college, g.major, g.level, NEW.progress_stage, 1);
    IF TG_OP = 'UPDATE' THEN
        PERFORM progress_add(OLD.school_id, g.college, g.major, g.level, OLD.progress_stage, -1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER progress_case_count_insert AFTER INSERT ON cases
    FOR EACH ROW EXECUTE FUNCTION progress_case_count();
CREATE TRIGGER progress_case_count_update AFTER UPDATE ON cases
    FOR EACH ROW WHEN (OLD.progress_stage IS DISTINCT FROM NEW.progress_stage)
    EXECUTE FUNCTION progress_case_count();

-- A code or an attempt can move its case between two stages of the same state.
CREATE FUNCTION progress_restage() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    case_ TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN case_ := OLD.case_id; ELSE case_ := NEW.case_id; END IF;
    UPDATE cases SET progress_stage = progress_stage_of(cases)
    WHERE id = case_ AND progress_stage <> progress_stage_of(cases);
    RETURN NULL;
END
$$;
CREATE TRIGGER progress_code_change AFTER INSERT OR UPDATE OF status ON codes
    FOR EACH ROW EXECUTE FUNCTION progress_restage();
CREATE TRIGGER progress_attempt_change AFTER INSERT OR DELETE ON attempts
    FOR EACH ROW EXECUTE FUNCTION progress_restage();

-- A student moved to another college, major or level takes their case's count along.
CREATE FUNCTION progress_student_group() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    stage_ TEXT;
BEGIN
    SELECT progress_stage INTO stage_ FROM cases WHERE student_id = NEW.id;
    IF stage_ IS NOT NULL AND stage_ <> '' THEN
        PERFORM progress_add(OLD.school_id, OLD.college, OLD.major, OLD.level, stage_, -1);
        PERFORM progress_add(NEW.school_id, NEW.college, NEW.major, NEW.level, stage_, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER progress_student_group AFTER UPDATE OF college, major, level ON students
    FOR EACH ROW
    WHEN (OLD.college IS DISTINCT FROM NEW.college OR OLD.major IS DISTINCT FROM NEW.major
          OR OLD.level IS DISTINCT FROM NEW.level)
    EXECUTE FUNCTION progress_student_group();
