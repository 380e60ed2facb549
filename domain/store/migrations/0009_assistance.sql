-- Road assistance and accident-site attendance requests (SPEC §4.8; pamphlets 001 §7.4, 003,
-- 004 §7.3, 000). domain/claims/assistance.py decides a request against the product's limits;
-- a row is an accepted request (a refused one changes nothing and is not stored), counted by
-- later requests of the same contract: uses per policy period, yen per incident or per person.
--
-- incident: the caller's key grouping the requests of one accident or breakdown (per-incident
-- and per-person caps, pet lodging after the owner's lodging). persons: [{person, requestedYen,
-- paidYen}]. grade_class is always NO_COUNT: assistance never changes the grade (001 L1070;
-- 004 L1594), and the table says so itself.
CREATE TABLE assistance_requests (
    id                     bigserial PRIMARY KEY,
    contract_id            bigint NOT NULL REFERENCES contracts (id),
    term_id                bigint NOT NULL REFERENCES terms (id),
    kind                   text NOT NULL CHECK (kind IN ('TOWING', 'WHEEL_DROP', 'BATTERY', 'LOCKOUT', 'FUEL',
                                                         'TYRE', 'LODGING', 'TRANSPORT_HOME', 'PET_LODGING',
                                                         'POST_REPAIR_TRANSPORT', 'SITE_ATTENDANCE')),
    incident               text NOT NULL CHECK (incident <> '' AND length(incident) <= 100),
    occurred_at            timestamptz NOT NULL,
    requested_at           timestamptz NOT NULL,
    requested_by           text NOT NULL,
    requested_role         text NOT NULL CHECK (requested_role IN ('policyholder', 'agent', 'staff', 'admin',
                                                                    'system')),
    decision               text NOT NULL DEFAULT 'ACCEPTED' CHECK (decision IN ('ACCEPTED')),
    accident               boolean NOT NULL DEFAULT false,
    immobile               boolean NOT NULL DEFAULT false,
    stolen                 boolean NOT NULL DEFAULT false,
    at_home                boolean NOT NULL DEFAULT false,
    distance_from_home_km  integer CHECK (distance_from_home_km >= 0),
    litres                 integer NOT NULL DEFAULT 0 CHECK (litres >= 0),
    nights                 integer NOT NULL DEFAULT 0 CHECK (nights >= 0),
    tow_km                 integer NOT NULL DEFAULT 0 CHECK (tow_km >= 0),
    drop_m                 integer NOT NULL DEFAULT 0 CHECK (drop_m >= 0),
    pet                    text,
    place                  text,
    amount_yen             bigint NOT NULL DEFAULT 0 CHECK (amount_yen >= 0),
    vehicle_amount_yen     bigint NOT NULL DEFAULT 0 CHECK (vehicle_amount_yen >= 0),
    persons                jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(persons) = 'array'),
    requested_yen          bigint NOT NULL CHECK (requested_yen >= 0),
    payable_yen            bigint NOT NULL CHECK (payable_yen >= 0),
    customer_pays_yen      bigint NOT NULL CHECK (customer_pays_yen >= 0),
    free_litres            integer NOT NULL DEFAULT 0 CHECK (free_litres >= 0),
    chargeable_km          integer NOT NULL DEFAULT 0 CHECK (chargeable_km >= 0),
    limits                 text[] NOT NULL DEFAULT '{}',
    notes                  text[] NOT NULL DEFAULT '{}',
    guard_tasks            text[] NOT NULL DEFAULT '{}',
    grade_class            text NOT NULL DEFAULT 'NO_COUNT' CHECK (grade_class = 'NO_COUNT'),
    CHECK (payable_yen + customer_pays_yen = requested_yen),
    CHECK (occurred_at <= requested_at),
    CHECK ((kind = 'SITE_ATTENDANCE') = (cardinality(guard_tasks) > 0))
);
CREATE INDEX assistance_requests_contract ON assistance_requests (contract_id, id);
