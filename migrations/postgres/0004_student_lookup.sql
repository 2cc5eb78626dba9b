-- The audit history finds a student by name, student number or ID-number hash across every
-- school a supervisor may see; the per-school unique keys cannot serve that.
CREATE INDEX students_name ON students (name);
CREATE INDEX students_student_no ON students (student_no);
CREATE INDEX students_id_hash ON students (id_number_hash);
