-- 0004_templates: saved compositions with {{NAME}} placeholders (POST /api/v1/templates).
-- A template is not a job: it has no state, is never claimed, and deleting one leaves the
-- compositions made from it alone (each holds its merged document in compositions.config).
CREATE TABLE templates (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    composition  TEXT NOT NULL CHECK (json_valid(composition)),  -- the document as posted
    placeholders TEXT NOT NULL CHECK (json_valid(placeholders)), -- ["NAME", …] by first use
    created_at   TEXT NOT NULL                                   -- sortable UTC text, as 0001
);

-- The list's order (newest first) and its cursor.
CREATE INDEX ix_templates_created_at ON templates (created_at DESC, id DESC);
