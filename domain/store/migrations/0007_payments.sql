-- Premium instalments of each bound term (SPEC §4.7; rules in domain/payments.py) and the log of
-- every payment and debit result recorded against them.
--
-- One row per instalment: an annual (single) premium is one row, a monthly plan one per month.
-- state: DUE (not yet past its due day), OVERDUE (its due day ended unpaid), PAID, VOID (the
-- contract was rescinded: never collected). paid_by says how it was paid; debit_failed_on and
-- not_at_fault record the last failed debit (not at fault moves the deadline to the end of M+2,
-- 001 L833); accelerated_on is set on the unpaid instalments that became due at once after the
-- second run of two consecutive failed debits (002b L5134-5135).
CREATE TABLE instalments (
    id              bigserial PRIMARY KEY,
    contract_id     bigint NOT NULL REFERENCES contracts (id),
    term_id         bigint NOT NULL REFERENCES terms (id),
    number          integer NOT NULL CHECK (number >= 1),
    plan            text NOT NULL CHECK (plan IN ('ANNUAL', 'MONTHLY')),
    due_on          date NOT NULL,
    amount_yen      bigint NOT NULL CHECK (amount_yen >= 0),
    state           text NOT NULL DEFAULT 'DUE' CHECK (state IN ('DUE', 'OVERDUE', 'PAID', 'VOID')),
    paid_on         date,
    paid_by         text CHECK (paid_by IN ('BANK_DEBIT', 'CARD', 'TRANSFER')),
    debit_failed_on date,
    not_at_fault    boolean NOT NULL DEFAULT false,
    accelerated_on  date,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (term_id, number),
    CHECK ((state = 'PAID') = (paid_on IS NOT NULL)),
    CHECK ((paid_on IS NULL) = (paid_by IS NULL))
);
CREATE INDEX instalments_contract ON instalments (contract_id, term_id, number);

-- Append-only: what was recorded, when and by whom (a failed debit leaves no other trace once
-- the instalment is paid).
CREATE TABLE payment_records (
    id            bigserial PRIMARY KEY,
    instalment_id bigint NOT NULL REFERENCES instalments (id),
    kind          text NOT NULL CHECK (kind IN ('PAID', 'DEBIT_FAILED')),
    on_date       date NOT NULL,
    amount_yen    bigint NOT NULL CHECK (amount_yen >= 0),
    paid_by       text CHECK (paid_by IN ('BANK_DEBIT', 'CARD', 'TRANSFER')),
    not_at_fault  boolean NOT NULL DEFAULT false,
    actor_subject text NOT NULL,
    actor_role    text NOT NULL,
    recorded_at   timestamptz NOT NULL
);
CREATE INDEX payment_records_instalment ON payment_records (instalment_id, id);
