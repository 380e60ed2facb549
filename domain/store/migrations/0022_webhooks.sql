-- Events reach the outside (issue 15): webhook subscriptions, their deliveries and every attempt,
-- notifications of reminders and deadlines, and a NOTIFY on every committed batch of events.

-- agency_id NULL: every contract (staff only); else the contracts of that agency.
-- kinds empty: every kind. after_event_id: a subscription receives only events written after it
-- was created (no flood of history). The secret signs; it is never read back through the API.
-- previous_secret still signs (a second v1 signature) until previous_secret_until, so a receiver
-- can switch secrets without refusing deliveries in between.
CREATE TABLE webhook_subscriptions (
    id                    bigserial PRIMARY KEY,
    url                   text NOT NULL CHECK (url ~ '^https?://[^\s]+$' AND length(url) <= 2000),
    kinds                 text[] NOT NULL DEFAULT '{}',
    agency_id             bigint REFERENCES agencies (id),
    secret                text NOT NULL CHECK (length(secret) >= 32),
    previous_secret       text,
    previous_secret_until timestamptz,
    active                boolean NOT NULL DEFAULT true,
    after_event_id        bigint NOT NULL DEFAULT 0,
    description           text NOT NULL DEFAULT '',
    created_by            text NOT NULL,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    deleted_at            timestamptz
);
CREATE INDEX webhook_subscriptions_live ON webhook_subscriptions (id) WHERE deleted_at IS NULL;

-- One row per (subscription, event). A lane is (subscription, contract): in a lane deliveries go
-- out in seq order, the head alone being tried until it is DELIVERED or DEAD.
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    subscription_id bigint NOT NULL REFERENCES webhook_subscriptions (id),
    event_id        bigint NOT NULL REFERENCES events (id),
    contract_id     bigint NOT NULL REFERENCES contracts (id),
    seq             integer NOT NULL,
    kind            text NOT NULL,
    state           text NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING', 'DELIVERED', 'DEAD')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    give_up_at      timestamptz NOT NULL,
    last_status     integer,
    last_error      text,
    delivered_at    timestamptz,
    dead_at         timestamptz,
    created_at      timestamptz NOT NULL,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_lane ON webhook_deliveries (subscription_id, contract_id, seq)
    WHERE state = 'PENDING';
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id DESC);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

-- The lock that keeps one lane's deliveries in order: a lane job holds its row FOR UPDATE.
CREATE TABLE webhook_lanes (
    subscription_id bigint NOT NULL REFERENCES webhook_subscriptions (id),
    contract_id     bigint NOT NULL REFERENCES contracts (id),
    PRIMARY KEY (subscription_id, contract_id)
);

CREATE TABLE webhook_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id),
    attempt     integer NOT NULL CHECK (attempt >= 1),
    at          timestamptz NOT NULL,
    latency_ms  double precision NOT NULL CHECK (latency_ms >= 0),
    status      integer,
    outcome     text NOT NULL CHECK (outcome IN ('DELIVERED', 'HTTP_ERROR', 'TIMEOUT', 'CONNECTION_ERROR')),
    error       text
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);

-- Reminders and deadlines told to someone: one row per (event, channel, recipient). A webhook
-- notification follows its delivery's state; an email one is sent by its own timer.
CREATE TABLE notifications (
    id          bigserial PRIMARY KEY,
    contract_id bigint NOT NULL REFERENCES contracts (id),
    event_id    bigint NOT NULL REFERENCES events (id),
    kind        text NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('WEBHOOK', 'EMAIL')),
    recipient   text NOT NULL CHECK (recipient <> ''),
    state       text NOT NULL DEFAULT 'PENDING' CHECK (state IN ('PENDING', 'SENT', 'FAILED')),
    delivery_id bigint REFERENCES webhook_deliveries (id),
    subject     text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL,
    sent_at     timestamptz,
    last_error  text,
    UNIQUE (event_id, channel, recipient)
);
CREATE INDEX notifications_contract ON notifications (contract_id, id);
CREATE INDEX notifications_delivery ON notifications (delivery_id) WHERE delivery_id IS NOT NULL;

-- GraphQL subscriptions: every API process LISTENs; PostgreSQL delivers a NOTIFY only when the
-- transaction commits (and never one of a rolled-back transaction). One notification per
-- statement (an expiry batch writes thousands of events in one), naming the id range it wrote.
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('autopolicy_events', json_build_object('min', min(id), 'max', max(id))::text)
    FROM new_events HAVING count(*) > 0;
    RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION events_notify();
