-- Fleet contracts (フリート契約, 002b L4998-5056, L5084-5092): one fleet per fleet policyholder,
-- its cars are contracts with `fleet_id`; each review date's decision is stored once.
CREATE TABLE fleets (
    id                bigserial PRIMARY KEY,
    fleet_number      text NOT NULL UNIQUE,
    product_id        text NOT NULL,
    policyholder_id   bigint NOT NULL REFERENCES parties (id),
    agency_id         bigint REFERENCES agencies (id),
    all_vehicle_rider boolean NOT NULL,
    ten_car_date      date NOT NULL,
    -- the all-vehicle certificate's common cover (NULL without the rider: each car its own term)
    starts_at         timestamptz,
    ends_at           timestamptz,
    created_at        timestamptz NOT NULL,
    CHECK ((starts_at IS NULL) = (ends_at IS NULL) AND (starts_at IS NULL OR ends_at > starts_at)),
    CHECK (all_vehicle_rider = (starts_at IS NOT NULL))
);
CREATE INDEX fleets_policyholder ON fleets (policyholder_id, id);
CREATE INDEX fleets_agency ON fleets (agency_id, id);
CREATE SEQUENCE fleet_number_seq START 1;

-- rate_percent NULL: the cars are on non-fleet grades again from the review date (L5020-5023).
CREATE TABLE fleet_reviews (
    fleet_id                 bigint NOT NULL REFERENCES fleets (id),
    review_no                integer NOT NULL CHECK (review_no >= 1),
    review_date              date NOT NULL,
    experience_from          date NOT NULL,
    experience_to            date NOT NULL,   -- exclusive
    paid_yen                 bigint NOT NULL CHECK (paid_yen >= 0),
    outstanding_end_yen      bigint NOT NULL CHECK (outstanding_end_yen >= 0),
    outstanding_prev_end_yen bigint NOT NULL CHECK (outstanding_prev_end_yen >= 0),
    premium_yen              bigint NOT NULL CHECK (premium_yen >= 0),
    car_count                integer NOT NULL CHECK (car_count >= 0),
    loss_ratio               numeric,
    prior_rate_percent       integer,
    rate_percent             integer,
    reasons                  jsonb NOT NULL,
    decided_at               timestamptz NOT NULL,
    PRIMARY KEY (fleet_id, review_no)
);

-- Adding and removing cars: one row per change, with the contract it created or ended.
CREATE TABLE fleet_changes (
    id                bigserial PRIMARY KEY,
    fleet_id          bigint NOT NULL REFERENCES fleets (id),
    kind              text NOT NULL CHECK (kind IN ('ADD_VEHICLE', 'REMOVE_VEHICLE')),
    contract_id       bigint NOT NULL REFERENCES contracts (id),
    effective_at      timestamptz NOT NULL,
    premium_delta_yen bigint NOT NULL,
    actor_subject     text NOT NULL,
    at                timestamptz NOT NULL
);
CREATE INDEX fleet_changes_fleet ON fleet_changes (fleet_id, id);

ALTER TABLE contracts ADD COLUMN fleet_id bigint REFERENCES fleets (id);
CREATE INDEX contracts_fleet ON contracts (fleet_id, id) WHERE fleet_id IS NOT NULL;
