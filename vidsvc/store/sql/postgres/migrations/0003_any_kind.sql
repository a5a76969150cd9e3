-- 0003_any_kind: a job's kind is whatever a handler names (vidsvc/work/kinds.py); the store
-- does not list them, so a new kind of work needs no migration. As in the SQLite file.
ALTER TABLE compositions DROP CONSTRAINT IF EXISTS compositions_kind_check;
