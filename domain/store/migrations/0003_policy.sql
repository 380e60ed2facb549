-- Policy storage: parties, agencies, vehicles, contracts, terms, bitemporal contract versions with
-- their drivers, grade records, transactions, the per-contract event outbox and idempotency records.
-- See docs/storage.md for the rules these tables enforce.
--
-- Closed sets fixed by SPEC (statuses, grade marker, licence colour, ...) are CHECKed here; sets that
-- grow with products and features (use type, fuel, transaction/event kind, grade source) are plain
-- text validated by the Python enums, so adding a member needs no migration.

-- A text[] used as a set: no member twice.
CREATE FUNCTION text_array_is_set(a text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT count(*) = count(DISTINCT x) FROM unnest(a) AS x $$;

CREATE TABLE parties (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('PERSON', 'CORPORATION')),
    name_kanji   text NOT NULL CHECK (name_kanji <> ''),
    name_kana    text,
    name_en      text,
    birth_date   date,
    postal_code  text,
    address_ja   text,
    address_en   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'PERSON' OR birth_date IS NULL)
);

CREATE TABLE agencies (
    id         bigserial PRIMARY KEY,
    code       text NOT NULL UNIQUE,
    name_ja    text NOT NULL CHECK (name_ja <> ''),
    name_en    text,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Year-months (first registration, model release) are stored as the first day of the month.
CREATE TABLE vehicles (
    id                  bigserial PRIMARY KEY,
    registration_no     text,
    chassis_no          text,
    use_type            text NOT NULL,
    model_code          text,
    first_registration  date CHECK (extract(day FROM first_registration) = 1),
    model_release       date CHECK (extract(day FROM model_release) = 1),
    rating_classes      jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(rating_classes) = 'object'),
    aeb                 boolean NOT NULL DEFAULT false,
    fuel                text,
    welfare             boolean NOT NULL DEFAULT false,
    value_yen           bigint CHECK (value_yen >= 0),
    owner_party_id      bigint REFERENCES parties (id),
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vehicles_chassis ON vehicles (chassis_no);
CREATE INDEX vehicles_owner ON vehicles (owner_party_id);

-- lock_version: optimistic concurrency, raised by every change of the contract aggregate.
-- event_seq: the last event sequence number handed out; events are numbered from this row under its
-- row lock, so a rolled-back transaction gives its numbers back and the sequence has no gaps.
CREATE TABLE contracts (
    id              bigserial PRIMARY KEY,
    policy_number   text NOT NULL UNIQUE,
    product_id      text NOT NULL,
    policyholder_id bigint NOT NULL REFERENCES parties (id),
    agency_id       bigint REFERENCES agencies (id),
    channel         text NOT NULL CHECK (channel IN ('INTERNET', 'AGENT', 'GROUP')),
    statuses        text[] NOT NULL DEFAULT '{}'
                    CHECK (statuses <@ ARRAY['QUOTED', 'IN_FORCE', 'EXPIRED', 'IN_RENEWAL_GRACE', 'LAPSED',
                                             'CANCELLED', 'CANCEL_PENDING', 'DELINQUENT', 'RESCINDED',
                                             'SWAP_PENDING', 'DO_NOT_RENEW']::text[]
                           AND text_array_is_set(statuses)),
    lock_version    integer NOT NULL DEFAULT 1 CHECK (lock_version >= 1),
    event_seq       integer NOT NULL DEFAULT 0 CHECK (event_seq >= 0),
    created_at      timestamptz NOT NULL
);
-- Read paths; the trailing id serves keyset pagination inside each filter.
CREATE INDEX contracts_agency ON contracts (agency_id, id);
CREATE INDEX contracts_policyholder ON contracts (policyholder_id, id);
CREATE INDEX contracts_product ON contracts (product_id, id);
CREATE INDEX contracts_statuses ON contracts USING gin (statuses);

-- Cover runs 16:00 JST to 16:00 JST; the instants are stored, not dates.
CREATE TABLE terms (
    id          bigserial PRIMARY KEY,
    contract_id bigint NOT NULL REFERENCES contracts (id),
    term_no     integer NOT NULL CHECK (term_no >= 1),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    status      text NOT NULL CHECK (status IN ('QUOTED', 'SCHEDULED', 'IN_FORCE', 'EXPIRED', 'CANCELLED',
                                                'LAPSED', 'RESCINDED')),
    created_at  timestamptz NOT NULL,
    UNIQUE (contract_id, term_no),
    CHECK (ends_at > starts_at)
);
CREATE INDEX terms_expiry ON terms (ends_at, contract_id);

CREATE TABLE transactions (
    id                bigserial PRIMARY KEY,
    contract_id       bigint NOT NULL REFERENCES contracts (id),
    kind              text NOT NULL CHECK (kind <> ''),
    actor_subject     text NOT NULL,
    actor_role        text NOT NULL CHECK (actor_role IN ('policyholder', 'agent', 'staff', 'admin', 'system')),
    at                timestamptz NOT NULL,
    effective_at      timestamptz,
    reason            text,
    idempotency_key   text,
    -- signed: an endorsement can lower the premium
    premium_delta_yen bigint NOT NULL DEFAULT 0,
    explanation       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX transactions_contract ON transactions (contract_id, id);

-- Bitemporal, append-only snapshots. `valid` = when the snapshot is in force (valid time);
-- recorded_at/superseded_at = when we knew it (transaction time). A row is never changed except
-- to set superseded_at once. Current rows (superseded_at IS NULL) of one contract never overlap.
--
-- The exclusion constraint compares contract ids as one-point int8ranges: PostgreSQL's core GiST
-- range opclass then covers both columns, so no btree_gist extension is needed (pgserver's
-- PostgreSQL 16 build ships without contrib).
CREATE TABLE contract_versions (
    id                  bigserial PRIMARY KEY,
    contract_id         bigint NOT NULL REFERENCES contracts (id),
    valid               tstzrange NOT NULL
                        CHECK (NOT isempty(valid) AND NOT lower_inf(valid) AND lower_inc(valid)
                               AND NOT upper_inc(valid)),
    recorded_at         timestamptz NOT NULL,
    superseded_at       timestamptz,
    transaction_id      bigint REFERENCES transactions (id),
    derived_from_id     bigint REFERENCES contract_versions (id),
    vehicle_id          bigint NOT NULL REFERENCES vehicles (id),
    named_insured_id    bigint NOT NULL REFERENCES parties (id),
    age_condition       text NOT NULL CHECK (age_condition IN ('ANY', 'AGE_21', 'AGE_26', 'AGE_35')),
    driver_restriction  text NOT NULL CHECK (driver_restriction IN ('NONE', 'FAMILY', 'NAMED_INSURED_AND_SPOUSE',
                                                                    'NAMED_INSURED_ONLY')),
    premium_yen         bigint NOT NULL CHECK (premium_yen >= 0),
    grade               smallint NOT NULL CHECK (grade BETWEEN 1 AND 20),
    grade_marker        text NOT NULL CHECK (grade_marker IN ('S', 'F', 'NONE')),
    grade_period        smallint NOT NULL CHECK (grade_period BETWEEN 0 AND 6),
    coverages           jsonb NOT NULL DEFAULT '[]'::jsonb,
    discounts           jsonb NOT NULL DEFAULT '[]'::jsonb,
    explanation         jsonb NOT NULL DEFAULT '{}'::jsonb,
    CHECK (superseded_at IS NULL OR superseded_at >= recorded_at),
    CONSTRAINT contract_versions_no_overlap
        EXCLUDE USING gist ((int8range(contract_id, contract_id, '[]')) WITH &&, valid WITH &&)
        WHERE (superseded_at IS NULL)
);
CREATE INDEX contract_versions_current ON contract_versions (contract_id, lower(valid))
    WHERE superseded_at IS NULL;
CREATE INDEX contract_versions_history ON contract_versions (contract_id, recorded_at);
CREATE INDEX contract_versions_vehicle ON contract_versions (vehicle_id) WHERE superseded_at IS NULL;

-- Drivers belong to a version: an as-of read answers the drivers of that moment with no range
-- arithmetic, and a split copies them with the rest of the snapshot.
CREATE TABLE version_drivers (
    version_id     bigint NOT NULL REFERENCES contract_versions (id),
    party_id       bigint NOT NULL REFERENCES parties (id),
    relationship   text NOT NULL CHECK (relationship IN ('SELF', 'SPOUSE', 'COHABITING_RELATIVE',
                                                         'UNMARRIED_CHILD_APART', 'EMPLOYEE', 'OTHER')),
    licence_colour text NOT NULL CHECK (licence_colour IN ('GOLD', 'BLUE', 'GREEN')),
    licence_date   date,
    PRIMARY KEY (version_id, party_id)
);
CREATE INDEX version_drivers_party ON version_drivers (party_id);

CREATE TABLE grade_records (
    id          bigserial PRIMARY KEY,
    contract_id bigint NOT NULL REFERENCES contracts (id),
    term_id     bigint REFERENCES terms (id),
    grade       smallint NOT NULL CHECK (grade BETWEEN 1 AND 20),
    marker      text NOT NULL CHECK (marker IN ('S', 'F', 'NONE')),
    period      smallint NOT NULL CHECK (period BETWEEN 0 AND 6),
    source      text NOT NULL CHECK (source <> ''),
    recorded_at timestamptz NOT NULL
);
CREATE INDEX grade_records_contract ON grade_records (contract_id, id);
CREATE INDEX grade_records_term ON grade_records (term_id);

-- Outbox: ordered per contract, numbered without gaps from contracts.event_seq.
CREATE TABLE events (
    id             bigserial PRIMARY KEY,
    contract_id    bigint NOT NULL REFERENCES contracts (id),
    seq            integer NOT NULL CHECK (seq >= 1),
    kind           text NOT NULL CHECK (kind <> ''),
    payload        jsonb NOT NULL DEFAULT '{}'::jsonb,
    at             timestamptz NOT NULL,
    transaction_id bigint REFERENCES transactions (id),
    published_at   timestamptz,
    UNIQUE (contract_id, seq)
);
CREATE INDEX events_unpublished ON events (id) WHERE published_at IS NULL;

-- One row per (principal, key). response is NULL only inside the transaction that claimed the key;
-- begin and finish run in the same transaction, so a committed row always has its response.
CREATE TABLE idempotency_records (
    scope        text NOT NULL,
    key          text NOT NULL CHECK (key <> '' AND length(key) <= 255),
    request_hash text NOT NULL,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_records_created ON idempotency_records (created_at);
