-- The demo book (workers/demo_book.py) was loaded, as of which business date: `autopolicy seed`
-- loads it once. One row at most; a production database never has one.
CREATE TABLE demo_book (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    as_of     date NOT NULL,
    loaded_at timestamptz NOT NULL,
    summary   text NOT NULL
);
