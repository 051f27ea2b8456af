-- A run's counter and its row in one statement (SPEC 15): the INSERT into
-- runs takes one past jobs.last_counter, and this trigger raises the
-- allocator in the same statement, so a run's start is one round trip
-- instead of a transaction of four. Every other insert (an imported log,
-- a missed slot) raises it too; the allocator still never goes back.
-- PostgreSQL needs no trigger: its statement raises the allocator in a
-- data-modifying WITH, which SQLite does not have.
CREATE TRIGGER runs_raise_counter AFTER INSERT ON runs BEGIN
    INSERT INTO jobs (kind, job_id, last_counter) VALUES (NEW.kind, NEW.job_id, NEW.counter)
    ON CONFLICT (kind, job_id) DO UPDATE SET last_counter = max(jobs.last_counter, excluded.last_counter);
END;
