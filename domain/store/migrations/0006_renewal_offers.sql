-- Renewal offers (SPEC §4.4, §5): the next term computed ≈ 60 days before expiry, recomputed
-- whenever what it depends on changes ("latest inputs win"), and the nightly runs that keep them
-- current. domain/store/offer_repo.py maps these rows; domain/services/renewal_offers.py fills them.

-- What an offer says, keyed by the fingerprint of everything it was computed from (the rating
-- input, the term's claims, the named insured's licence, the tariff versions in force, the code
-- version). The same inputs give the same offer, so contracts with identical inputs share a row:
-- a recalculation of a large book writes each distinct document once.
CREATE TABLE renewal_offer_docs (
    fingerprint          text PRIMARY KEY CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    product_id           text NOT NULL,
    tariff_version       text NOT NULL,
    premium_yen          bigint NOT NULL CHECK (premium_yen >= 0),
    current_premium_yen  bigint NOT NULL CHECK (current_premium_yen >= 0),
    -- grade, period, age bands, discount changes, diff lines and causes, notes, premium, quote
    offer                jsonb NOT NULL CHECK (jsonb_typeof(offer) = 'object'),
    created_at           timestamptz NOT NULL
);

-- One row per computed offer of a term. OFFERED: the live offer; SUPERSEDED: replaced by a
-- recomputation with other inputs; ACCEPTED: the term was renewed from it. At most one live
-- (OFFERED or ACCEPTED) row per term.
CREATE TABLE renewal_offers (
    id                   bigserial PRIMARY KEY,
    contract_id          bigint NOT NULL REFERENCES contracts (id),
    term_id              bigint NOT NULL REFERENCES terms (id),
    next_start           date NOT NULL,
    fingerprint          text NOT NULL REFERENCES renewal_offer_docs (fingerprint),
    premium_yen          bigint NOT NULL CHECK (premium_yen >= 0),
    current_premium_yen  bigint NOT NULL CHECK (current_premium_yen >= 0),
    state                text NOT NULL CHECK (state IN ('OFFERED', 'ACCEPTED', 'SUPERSEDED')),
    reason               text NOT NULL,
    run_id               bigint,
    computed_at          timestamptz NOT NULL,
    superseded_at        timestamptz,
    accepted_at          timestamptz,
    CHECK ((state = 'SUPERSEDED') = (superseded_at IS NOT NULL)),
    CHECK ((state = 'ACCEPTED') = (accepted_at IS NOT NULL))
);
CREATE UNIQUE INDEX renewal_offers_live ON renewal_offers (term_id) WHERE state IN ('OFFERED', 'ACCEPTED');
CREATE INDEX renewal_offers_contract ON renewal_offers (contract_id, id);

-- A recalculation run over the book (nightly timer or `autopolicy recalc`). The contracts are
-- split into parts by id range (lo, hi]; each part is walked by keyset (cursor = the last
-- contract id done) and every page commits with its part's cursor and counts, so a run stopped
-- anywhere resumes from its cursors and redoes at most one uncommitted page.
CREATE TABLE recalc_runs (
    id           bigserial PRIMARY KEY,
    as_of        date NOT NULL,
    source       text NOT NULL CHECK (source IN ('NIGHTLY', 'CLI', 'BENCH')),
    state        text NOT NULL CHECK (state IN ('RUNNING', 'DONE')),
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    CHECK ((state = 'DONE') = (finished_at IS NOT NULL))
);
-- One nightly run per date: the nightly timer may run twice, the run exists once.
CREATE UNIQUE INDEX recalc_runs_nightly ON recalc_runs (as_of) WHERE source = 'NIGHTLY';

CREATE TABLE recalc_run_parts (
    run_id     bigint NOT NULL REFERENCES recalc_runs (id),
    part_no    integer NOT NULL CHECK (part_no >= 0),
    lo         bigint NOT NULL,            -- exclusive
    hi         bigint NOT NULL,            -- inclusive
    cursor     bigint NOT NULL,            -- last contract id done (lo before the first page)
    done       boolean NOT NULL DEFAULT false,
    scanned    bigint NOT NULL DEFAULT 0,  -- contracts with an offer due
    offered    bigint NOT NULL DEFAULT 0,  -- new offers (first for the term)
    changed    bigint NOT NULL DEFAULT 0,  -- offers replaced because their inputs changed
    unchanged  bigint NOT NULL DEFAULT 0,  -- same inputs: nothing written
    failed     bigint NOT NULL DEFAULT 0,  -- not rateable (logged, no offer)
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (run_id, part_no),
    CHECK (lo <= cursor AND cursor <= hi)
);
