-- Renewal offers keep what they were computed from instead of a rendered document (issue 16,
-- docs/decisions.md "Recalculation, second pass").
--
-- The nightly run prices the next term of every due contract; the document of an offer (grade
-- steps, diff lines and causes, discounts that moved, notes, explanation) follows from the same
-- facts by the same pure function, and is read one offer at a time. So an offer stores its price
-- and its source: the contract version whose rating input it was computed from (versions are
-- never rewritten) and the facts beside it (claims, licence, a fleet car's next rate; a short
-- JSON text, domain/services/renewals/offers.OfferFacts). The document is derived when read and
-- checked against the stored price. Offers written before this keep their document in
-- renewal_offer_docs (source NULL); new ones write none.
--
-- No foreign key on source_version_id: the writer read that version under its contract's row lock
-- in the same transaction, versions are never deleted, and the check cost 15 µs a row (a quarter
-- of the offer insert on a 1,000,000-contract night). The term and contract stay keyed (below).
ALTER TABLE renewal_offers DROP CONSTRAINT IF EXISTS renewal_offers_fingerprint_fkey;
ALTER TABLE renewal_offers
    ADD COLUMN tariff_version text,          -- in force on the next start (the document kept it before)
    ADD COLUMN source_version_id bigint,
    ADD COLUMN source_facts text CHECK (left(source_facts, 1) = '{'),
    ADD CONSTRAINT renewal_offers_source_check CHECK ((source_version_id IS NULL) = (source_facts IS NULL));

-- An offer's term and contract in one key: the term must be that contract's. One check a row
-- instead of two (each foreign-key check is a lookup with a row lock, ≈ 12-15 µs a row on the
-- nightly run's pages), and stronger: two separate keys let an offer name another contract's term.
CREATE UNIQUE INDEX terms_id_contract ON terms (id, contract_id);
ALTER TABLE renewal_offers
    DROP CONSTRAINT renewal_offers_contract_id_fkey,
    DROP CONSTRAINT renewal_offers_term_id_fkey,
    ADD CONSTRAINT renewal_offers_term_contract_fkey FOREIGN KEY (term_id, contract_id) REFERENCES terms (id, contract_id);
