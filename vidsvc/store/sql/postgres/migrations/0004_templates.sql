-- 0004_templates: saved compositions with {{NAME}} placeholders, as in
-- sql/sqlite/migrations/0004_templates.sql (same names, columns in the same order).
-- `json`, not jsonb, for the document: it keeps the text as posted (key order included), which
-- is what GET answers and the console's editor shows; nothing queries inside it.
CREATE TABLE templates (
    id           text COLLATE "C" PRIMARY KEY,
    name         text NOT NULL,
    composition  json NOT NULL,
    placeholders jsonb NOT NULL,
    created_at   timestamptz NOT NULL
);

-- The list's order (newest first) and its cursor.
CREATE INDEX ix_templates_created_at ON templates (created_at DESC, id DESC);
