-- Claims (SPEC §4.8, issue 6): first notice of loss, the coverage decision at the accident moment,
-- lines per coverage with reserves and payments, the grade class, documents and a per-claim history.
-- domain/claims/ holds the rules, domain/store/claim_repo.py maps rows, domain/services/claims*.py
-- are the use cases.
--
-- A claim belongs to the contract and to the term of its accident (for a gap under a
-- forgotten-renewal window: the expired term), so a renewal reads a term's classified claims with
-- one index scan. The coverage decision is stored with its reasons; window_ids are the windows the
-- decision consulted, so a window that resolves finds the claims it held COVERAGE_PENDING.
CREATE TABLE claims (
    id                   bigserial PRIMARY KEY,
    claim_number         text NOT NULL UNIQUE,
    contract_id          bigint NOT NULL REFERENCES contracts (id),
    term_id              bigint REFERENCES terms (id),
    version_id           bigint REFERENCES contract_versions (id),
    accident_at          timestamptz NOT NULL,
    place                text NOT NULL CHECK (place <> ''),
    vehicle_id           bigint NOT NULL REFERENCES vehicles (id),
    driver_party_id      bigint REFERENCES parties (id),
    driver_relationship  text,
    description          text NOT NULL CHECK (description <> ''),
    other_parties        jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(other_parties) = 'array'),
    police_report_no     text,
    injuries             jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(injuries) = 'array'),
    claimed_coverages    text[] NOT NULL DEFAULT '{}' CHECK (text_array_is_set(claimed_coverages)),
    claim_types          text[] NOT NULL DEFAULT '{}' CHECK (text_array_is_set(claim_types)),
    status               text NOT NULL CHECK (status IN ('REPORTED', 'UNDER_REVIEW', 'APPROVED', 'DENIED', 'PAID',
                                                         'CLOSED', 'WITHDRAWN')),
    coverage_state       text NOT NULL CHECK (coverage_state IN ('COVERED', 'NOT_COVERED', 'COVERAGE_PENDING')),
    coverage_reasons     jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(coverage_reasons) = 'array'),
    applicable           text[] NOT NULL DEFAULT '{}',
    liability_only       boolean NOT NULL DEFAULT false,
    waiting_for          text[] NOT NULL DEFAULT '{}',
    window_ids           bigint[] NOT NULL DEFAULT '{}',
    decided_at           timestamptz NOT NULL,
    -- grade impact: the effective class (NULL: does not count / nothing paid yet), how it came about
    vehicle_cause        text,
    no_fault             text NOT NULL DEFAULT 'NONE',
    grade_class          text CHECK (grade_class IN ('THREE_DOWN', 'ONE_DOWN', 'NO_COUNT')),
    grade_reason         text,
    grade_overridden     boolean NOT NULL DEFAULT false,
    override_class       text CHECK (override_class IN ('THREE_DOWN', 'ONE_DOWN', 'NO_COUNT')),
    override_reason      text,
    withdrawn_at         timestamptz,
    repayment_due_yen    bigint NOT NULL DEFAULT 0 CHECK (repayment_due_yen >= 0),
    documents_received   text[] NOT NULL DEFAULT '{}' CHECK (text_array_is_set(documents_received)),
    amount_claimed_yen   bigint NOT NULL DEFAULT 0 CHECK (amount_claimed_yen >= 0),
    kyosai_benefits      jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(kyosai_benefits) = 'array'),
    staff_notes          text,
    reported_by          text NOT NULL,
    reported_role        text NOT NULL,
    event_seq            integer NOT NULL DEFAULT 0 CHECK (event_seq >= 0),
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    CHECK (override_reason IS NULL OR override_reason <> ''),
    CHECK ((status = 'WITHDRAWN') = (withdrawn_at IS NOT NULL))
);
CREATE INDEX claims_contract ON claims (contract_id, id);
CREATE INDEX claims_term ON claims (term_id, id);
CREATE INDEX claims_pending_windows ON claims USING gin (window_ids) WHERE coverage_state = 'COVERAGE_PENDING';

-- One line per coverage involved; `terms` are the limits and deductible it was opened with
-- (domain.claims.lines.LineTerms as JSON), so a later endorsement does not move a claim's limits.
CREATE TABLE claim_lines (
    id          bigserial PRIMARY KEY,
    claim_id    bigint NOT NULL REFERENCES claims (id),
    coverage    text NOT NULL CHECK (coverage <> ''),
    terms       jsonb NOT NULL CHECK (jsonb_typeof(terms) = 'object'),
    reserve_yen bigint NOT NULL DEFAULT 0 CHECK (reserve_yen >= 0),
    created_at  timestamptz NOT NULL,
    UNIQUE (claim_id, coverage)
);

CREATE TABLE claim_payments (
    id           bigserial PRIMARY KEY,
    claim_id     bigint NOT NULL REFERENCES claims (id),
    line_id      bigint NOT NULL REFERENCES claim_lines (id),
    amount_yen   bigint NOT NULL CHECK (amount_yen > 0),
    paid_on      date NOT NULL,
    person       text,
    vehicle      text,
    note         text NOT NULL DEFAULT '',
    actor_subject text NOT NULL,
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX claim_payments_claim ON claim_payments (claim_id, id);

-- The per-claim history: every report, transition, decision, reserve, payment and classification
-- with actor, time and reason, numbered 1, 2, 3 ... per claim from claims.event_seq (no gaps, as
-- the contract outbox). Webhook-worthy moments also go to the contract outbox (events).
CREATE TABLE claim_events (
    id            bigserial PRIMARY KEY,
    claim_id      bigint NOT NULL REFERENCES claims (id),
    seq           integer NOT NULL CHECK (seq >= 1),
    kind          text NOT NULL CHECK (kind <> ''),
    from_status   text,
    to_status     text,
    actor_subject text NOT NULL,
    actor_role    text NOT NULL,
    reason        text,
    payload       jsonb NOT NULL DEFAULT '{}'::jsonb,
    internal      boolean NOT NULL DEFAULT false,
    at            timestamptz NOT NULL,
    UNIQUE (claim_id, seq)
);

CREATE SEQUENCE claim_number_seq;
