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
UPDATE cases SET progress_stage = CASE cases.state
        WHEN 'invited' THEN CASE WHEN EXISTS (SELECT 1 FROM codes k WHERE k.case_id = cases.id AND k.status = 'active') THEN 'code_not_opened' ELSE 'no_code' END
        WHEN 'claimed' THEN 'opened'
        WHEN 'identity_verified' THEN 'identity_checked'
        WHEN 'ready' THEN CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = cases.id AND a.round = cases.round) THEN 'photo_taken' ELSE 'paid' END
        WHEN 'pending_review' THEN 'submitted'
        ELSE cases.state
    END;
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

CREATE TRIGGER progress_case_insert AFTER INSERT ON cases
BEGIN
    UPDATE cases SET progress_stage = CASE cases.state
        WHEN 'invited' THEN CASE WHEN EXISTS (SELECT 1 FROM codes k WHERE k.case_id = cases.id AND k.status = 'active') THEN 'code_not_opened' ELSE 'no_code' END
        WHEN 'claimed' THEN 'opened'
        WHEN 'identity_verified' THEN 'identity_checked'
        WHEN 'ready' THEN CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = cases.id AND a.round = cases.round) THEN 'photo_taken' ELSE 'paid' END
        WHEN 'pending_review' THEN 'submitted'
        ELSE cases.state
    END
    WHERE id = NEW.id;
END;
CREATE TRIGGER progress_case_state AFTER UPDATE OF state, round ON cases
BEGIN
    UPDATE cases SET progress_stage = CASE cases.state
        WHEN 'invited' THEN CASE WHEN EXISTS (SELECT 1 FROM codes k WHERE k.case_id = cases.id AND k.status = 'active') THEN 'code_not_opened' ELSE 'no_code' END
        WHEN 'claimed' THEN 'opened'
        WHEN 'identity_verified' THEN 'identity_checked'
        WHEN 'ready' THEN CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = cases.id AND a.round = cases.round) THEN 'photo_taken' ELSE 'paid' END
        WHEN 'pending_review' THEN 'submitted'
        ELSE cases.state
    END
    WHERE id = NEW.id AND progress_stage <> CASE cases.state
        WHEN 'invited' THEN CASE WHEN EXISTS (SELECT 1 FROM codes k WHERE k.case_id = cases.id AND k.status = 'active') THEN 'code_not_opened' ELSE 'no_code' END
        WHEN 'claimed' THEN 'opened'
        WHEN 'identity_verified' THEN 'identity_checked'
        WHEN 'ready' THEN CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = cases.id AND a.round = cases.round) THEN 'photo_taken' ELSE 'paid' END
        WHEN 'pending_review' THEN 'submitted'
        ELSE cases.state
    END;
END;
CREATE TRIGGER progress_case_count AFTER UPDATE OF progress_stage ON cases
WHEN OLD.progress_stage <> NEW.progress_stage
BEGIN
    UPDATE progress_counts SET n = n - 1
    WHERE school_id = OLD.school_id AND stage = OLD.progress_stage
      AND (college, major, level) = (SELECT college, major, level FROM students WHERE id = OLD.student_id);
    INSERT INTO progress_counts (school_id, college, major, level, stage, n)
        SELECT NEW.school_id, s.college, s.major, s.level, NEW.progress_stage, 1
        FROM students s WHERE s.id = NEW.student_id
        ON CONFLICT (school_id, college, major, level, stage) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER progress_code_insert AFTER INSERT ON codes
BEGIN
    UPDATE cases SET progress_stage = CASE cases.state
        WHEN 'invited' THEN CASE WHEN EXISTS (SELECT 1 FROM codes k WHERE k.case_id = cases.id AND k.status = 'active') THEN 'code_not_opened' ELSE 'no_code' END
        WHEN 'claimed' THEN 'opened'
        WHEN 'identity_verified' THEN 'identity_checked'
        WHEN 'ready' THEN CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = cases.id AND a.round = cases.round) THEN 'photo_taken' ELSE 'paid' END
        WHEN 'pending_review' THEN 'submitted'
        ELSE cases.state
    END
    WHERE id = NEW.case_id AND progress_stage <> CASE cases.state
        WHEN 'invited' THEN CASE WHEN EXISTS (SELECT 1 FROM codes k WHERE k.case_id = cases.id AND k.status = 'active') THEN 'code_not_opened' ELSE 'no_code' END
        WHEN 'claimed' THEN 'opened'
        WHEN 'identity_verified' THEN 'identity_checked'
        WHEN 'ready' THEN CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = cases.id AND a.round = cases.round) THEN 'photo_taken' ELSE 'paid' END
        WHEN 'pending_review' THEN 'submitted'
        ELSE cases.state
    END;
END;
CREATE TRIGGER progress_code_status AFTER UPDATE OF status ON codes
BEGIN
    UPDATE cases SET progress_stage = CASE cases.state
        WHEN 'invited' THEN CASE WHEN EXISTS (SELECT 1 FROM codes k WHERE k.case_id = cases.id AND k.status = 'active') THEN 'code_not_opened' ELSE 'no_code' END
        WHEN 'claimed' THEN 'opened'
        WHEN 'identity_verified' THEN 'identity_checked'
        WHEN 'ready' THEN CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = cases.id AND a.round = cases.round) THEN 'photo_taken' ELSE 'paid' END
        WHEN 'pending_review' THEN 'submitted'
        ELSE cases.state
    END
    WHERE id = NEW.case_id AND progress_stage <> CASE cases.state
        WHEN 'invited' THEN CASE WHEN EXISTS (SELECT 1 FROM codes k WHERE k.case_id = cases.id AND k.status = 'active') THEN 'code_not_opened' ELSE 'no_code' END
        WHEN 'claimed' THEN 'opened'
        WHEN 'identity_verified' THEN 'identity_checked'
        WHEN 'ready' THEN CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = cases.id AND a.round = cases.round) THEN 'photo_taken' ELSE 'paid' END
        WHEN 'pending_review' THEN 'submitted'
        ELSE cases.state
    END;
END;
CREATE TRIGGER progress_attempt_insert AFTER INSERT ON attempts
BEGIN
    UPDATE cases SET progress_stage = CASE cases.state
        WHEN 'invited' THEN CASE WHEN EXISTS (SELECT 1 FROM codes k WHERE k.case_id = cases.id AND k.status = 'active') THEN 'code_not_opened' ELSE 'no_code' END
        WHEN 'claimed' THEN 'opened'
        WHEN 'identity_verified' THEN 'identity_checked'
        WHEN 'ready' THEN CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = cases.id AND a.round = cases.round) THEN 'photo_taken' ELSE 'paid' END
        WHEN 'pending_review' THEN 'submitted'
        ELSE cases.state
    END
    WHERE id = NEW.case_id AND progress_stage <> CASE cases.state
        WHEN 'invited' THEN CASE WHEN EXISTS (SELECT 1 FROM codes k WHERE k.case_id = cases.id AND k.status = 'active') THEN 'code_not_opened' ELSE 'no_code' END
        WHEN 'claimed' THEN 'opened'
        WHEN 'identity_verified' THEN 'identity_checked'
        WHEN 'ready' THEN CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = cases.id AND a.round = cases.round) THEN 'photo_taken' ELSE 'paid' END
        WHEN 'pending_review' THEN 'submitted'
        ELSE cases.state
    END;
END;
CREATE TRIGGER progress_attempt_delete AFTER DELETE ON attempts
BEGIN
    UPDATE cases SET progress_stage = CASE cases.state
        WHEN 'invited' THEN CASE WHEN EXISTS (SELECT 1 FROM codes k WHERE k.case_id = cases.id AND k.status = 'active') THEN 'code_not_opened' ELSE 'no_code' END
        WHEN 'claimed' THEN 'opened'
        WHEN 'identity_verified' THEN 'identity_checked'
        WHEN 'ready' THEN CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = cases.id AND a.round = cases.round) THEN 'photo_taken' ELSE 'paid' END
        WHEN 'pending_review' THEN 'submitted'
        ELSE cases.state
    END
    WHERE id = OLD.case_id AND progress_stage <> CASE cases.state
        WHEN 'invited' THEN CASE WHEN EXISTS (SELECT 1 FROM codes k WHERE k.case_id = cases.id AND k.status = 'active') THEN 'code_not_opened' ELSE 'no_code' END
        WHEN 'claimed' THEN 'opened'
        WHEN 'identity_verified' THEN 'identity_checked'
        WHEN 'ready' THEN CASE WHEN EXISTS (SELECT 1 FROM attempts a WHERE a.case_id = cases.id AND a.round = cases.round) THEN 'photo_taken' ELSE 'paid' END
        WHEN 'pending_review' THEN 'submitted'
        ELSE cases.state
    END;
END;
CREATE TRIGGER progress_student_group AFTER UPDATE OF college, major, level ON students
WHEN OLD.college <> NEW.college OR OLD.major <> NEW.major OR OLD.level <> NEW.level
BEGIN
    UPDATE progress_counts SET n = n - 1
    WHERE school_id = OLD.school_id AND college = OLD.college AND major = OLD.major
      AND level = OLD.level
      AND stage = (SELECT progress_stage FROM cases WHERE student_id = OLD.id);
    INSERT INTO progress_counts (school_id, college, major, level, stage, n)
        SELECT NEW.school_id, NEW.college, NEW.major, NEW.level, c.progress_stage, 1
        FROM cases c WHERE c.student_id = NEW.id AND c.progress_stage <> ''
        ON CONFLICT (school_id, college, major, level, stage) DO UPDATE SET n = n + 1;
END;
