-- Who a party or vehicle belongs to (for access control), a person's licence, and what a
-- version was rated from.
--
-- account_party_id: the policyholder whose book a party or vehicle belongs to (a policyholder
-- is their own account). agency_id: the agency that registered it. A policyholder reaches what
-- is in their account; an agent what their agency registered; staff everything.
ALTER TABLE parties ADD COLUMN account_party_id bigint REFERENCES parties (id);
ALTER TABLE parties ADD COLUMN agency_id bigint REFERENCES agencies (id);
ALTER TABLE parties ADD COLUMN licence_colour text CHECK (licence_colour IN ('GOLD', 'BLUE', 'GREEN'));
ALTER TABLE parties ADD COLUMN licence_date date;
CREATE INDEX parties_account ON parties (account_party_id);
CREATE INDEX parties_agency ON parties (agency_id);

ALTER TABLE vehicles ADD COLUMN account_party_id bigint REFERENCES parties (id);
ALTER TABLE vehicles ADD COLUMN agency_id bigint REFERENCES agencies (id);
CREATE INDEX vehicles_account ON vehicles (account_party_id);
CREATE INDEX vehicles_agency ON vehicles (agency_id);

-- rating_input: the QuoteInput the premium was computed from (domain/rating_codec.py), so an
-- endorsement or renewal re-rates from exactly what was sold. premium: the priced result
-- (lines, instalments, riders, tariff version); explanation keeps its steps.
ALTER TABLE contract_versions ADD COLUMN rating_input jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE contract_versions ADD COLUMN premium jsonb NOT NULL DEFAULT '{}'::jsonb;

-- Quotes and contracts are numbered from one sequence (AP + product prefix + number).
CREATE SEQUENCE policy_number_seq START 100001;
