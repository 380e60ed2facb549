-- The 30-day provisional-cover windows (SPEC §4.6) as first-class rows; domain/windows.py holds
-- the rules, domain/store/window_repo.py maps a row to its `Window`.
--
-- event_on: the expiry, acquisition or household-event date; day 1 is the day after it.
-- full_until: day 30; downgrade_until: expiry + 30 (swap and driver change with the liability
-- rule); gap_end: where the gap the window covers ends.
-- The links say what the window is about: the new and the replaced car of a swap, the household
-- member of a driver change; details keeps the rest of the report (what happened to the old car,
-- the 車検証 data of a filing, the extra premium).
CREATE TABLE windows (
    id                  bigserial PRIMARY KEY,
    contract_id         bigint NOT NULL REFERENCES contracts (id),
    term_id             bigint NOT NULL REFERENCES terms (id),
    kind                text NOT NULL CHECK (kind IN ('RENEWAL_GRACE', 'VEHICLE_SWAP', 'DRIVER_CHANGE')),
    state               text NOT NULL CHECK (state IN ('OPEN', 'CONFIRMED', 'DOWNGRADED', 'VOID', 'CLOSED')),
    product_id          text NOT NULL,
    opens_at            timestamptz NOT NULL,
    event_on            date NOT NULL,
    full_until          date NOT NULL,
    downgrade_until     date,
    gap_end             timestamptz NOT NULL,
    liability_codes     text[] NOT NULL DEFAULT '{}',
    source              text NOT NULL,
    filed_on            date,
    outcome             text CHECK (outcome IN ('FULL', 'LIABILITY_ONLY', 'NONE')),
    household_event     text CHECK (household_event IN ('NEWLY_LICENSED', 'NEW_HOUSEHOLD_MEMBER', 'MARRIAGE')),
    new_vehicle_id      bigint REFERENCES vehicles (id),
    replaced_vehicle_id bigint REFERENCES vehicles (id),
    party_id            bigint REFERENCES parties (id),
    approved_at         timestamptz,
    approved_by         text,
    details             jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(details) = 'object'),
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CHECK (full_until > event_on),
    CHECK (downgrade_until IS NULL OR downgrade_until >= full_until),
    CHECK (gap_end > opens_at),
    CHECK ((filed_on IS NULL) = (outcome IS NULL)),
    CHECK (kind <> 'VEHICLE_SWAP' OR new_vehicle_id IS NOT NULL),
    CHECK (kind <> 'DRIVER_CHANGE' OR household_event IS NOT NULL)
);
CREATE INDEX windows_contract ON windows (contract_id, id);
-- One forgotten-renewal window per expiring term: the expiry job may run twice, the row once.
CREATE UNIQUE INDEX windows_one_grace_per_term ON windows (term_id) WHERE kind = 'RENEWAL_GRACE';
CREATE INDEX windows_live ON windows (contract_id) WHERE state IN ('OPEN', 'DOWNGRADED');

-- A term that began by a renewal inside the forgotten-renewal window: the next expiry cannot use
-- the window again (002b L4158).
ALTER TABLE terms ADD COLUMN renewed_in_grace boolean NOT NULL DEFAULT false;
