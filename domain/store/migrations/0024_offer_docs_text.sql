-- Renewal offer documents as text, compressed with lz4 where the server has it (issue 16,
-- docs/decisions.md "h-recalc").
--
-- A document (grade, discount changes, diff lines and causes, notes, premium, next quote: ~4-6 kB)
-- is written once per distinct offer and only ever read whole (offer_repo: `offer::text`); nothing
-- queries inside it. As jsonb every write parsed it and pglz compressed it: with every contract's
-- inputs distinct that was the largest part of the database's share of a nightly run (a million
-- documents a night). Text keeps the bytes Python's json wrote (valid JSON by construction; the
-- check below only guards against a non-object), and lz4 compresses several times faster than
-- pglz. A server built without lz4 (some embedded builds) keeps pglz.
ALTER TABLE renewal_offer_docs DROP CONSTRAINT IF EXISTS renewal_offer_docs_offer_check;
ALTER TABLE renewal_offer_docs ALTER COLUMN offer TYPE text USING offer::text;
ALTER TABLE renewal_offer_docs ADD CONSTRAINT renewal_offer_docs_offer_check CHECK (left(offer, 1) = '{');
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE renewal_offer_docs ALTER COLUMN offer SET COMPRESSION lz4;
    END IF;
END $$;
