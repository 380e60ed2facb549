-- Durable timers: every deadline of the product is a row here; arq only executes them.
-- state: PENDING (waiting for due_at) -> ENQUEUED (handed to arq) -> DONE,
--        or back to PENDING with a later due_at after a failure, FAILED after the last attempt,
--        CANCELLED when the thing it was waiting for no longer matters.
CREATE TABLE timers (
    id              bigserial PRIMARY KEY,
    kind            text        NOT NULL,
    subject         text        NOT NULL,
    due_at          timestamptz NOT NULL,
    state           text        NOT NULL DEFAULT 'PENDING'
                    CHECK (state IN ('PENDING', 'ENQUEUED', 'DONE', 'FAILED', 'CANCELLED')),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      text,
    idempotency_key text        NOT NULL UNIQUE,
    payload         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    enqueued_at     timestamptz,
    done_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The sweep reads only live rows in due order.
CREATE INDEX timers_live_due ON timers (due_at) WHERE state IN ('PENDING', 'ENQUEUED');
CREATE INDEX timers_subject ON timers (subject);

-- Effect table of the no-op "ping" timer kind: lets tests count effects. No unique constraint on
-- purpose, so a doubled effect would be visible rather than refused.
CREATE TABLE timer_ping_effects (
    id         bigserial PRIMARY KEY,
    timer_id   bigint      NOT NULL,
    fired_at   timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX timer_ping_effects_timer ON timer_ping_effects (timer_id);
