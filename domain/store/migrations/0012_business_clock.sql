-- The business clock of a non-production deployment: `autopolicy simulate` moves it forward, and
-- the API and workers read the offset, so every process agrees on "now". One row; production
-- never reads it (Settings.allow_clock_override is false there).
CREATE TABLE business_clock (
    id             boolean PRIMARY KEY DEFAULT true CHECK (id),
    offset_seconds double precision NOT NULL DEFAULT 0 CHECK (offset_seconds >= 0),
    moved_at       timestamptz,
    moved_by       text
);
INSERT INTO business_clock (id) VALUES (true);
