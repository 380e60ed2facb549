-- One registration number on one live contract at a time (issue 12; docs/decisions.md, "h-ops").
--
-- A live contract (IN_FORCE, IN_RENEWAL_GRACE, DELINQUENT, CANCEL_PENDING or SWAP_PENDING; a
-- quote, an expired, lapsed, cancelled or rescinded contract holds nothing) *holds* the
-- registration number of each car its current versions name, over the part of that version its
-- live terms cover (SCHEDULED or IN_FORCE). A contract in its forgotten-renewal grace holds its
-- car from its last term's end on, open-ended: it may still be renewed. So a vehicle swap frees
-- the old car from the swap's effective moment, a renewal keeps the car on the same contract,
-- and a new contract may take a car from the moment another one's cover ends.
--
-- `registration_holds` is kept by statement triggers on contracts, terms, versions and vehicles,
-- so every writer (the services, the demo and bench builders, a psql session) is held to it. Two
-- contracts' holds of one number never overlap: an exclusion constraint, so PostgreSQL itself
-- serialises two transactions racing for the same car. Core GiST has no text equality (that is
-- btree_gist, which pgserver's build lacks), so the number is compared as a 64-bit hash in a
-- one-point int8range; the key itself is stored for the service's lookup and its messages.
-- Numbers compare after NFKC, without spaces, middle dots or hyphens ("品川 300 さ 12-34" is
-- "品川300さ1234").
--
-- Duplicates already in a database when this runs are kept as they are (`grandfathered`: the
-- later contract of each pair is outside the constraint), so the migration never fails on old
-- data; they drop out as those contracts end.

CREATE FUNCTION registration_key(reg text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT nullif(regexp_replace(normalize(reg, NFKC), '[[:space:]・-]', '', 'g'), '') $$;

CREATE FUNCTION registration_hash(key text) RETURNS int8range
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    -- >> 1: the upper bound of '[h,h]' is h + 1, which must not overflow bigint
    AS $$ SELECT int8range(hashtextextended(key, 0) >> 1, hashtextextended(key, 0) >> 1, '[]') $$;

CREATE TABLE registration_holds (
    contract_id   bigint NOT NULL REFERENCES contracts (id),
    reg_key       text NOT NULL,
    cover         tstzmultirange NOT NULL CHECK (NOT isempty(cover)),
    grandfathered boolean NOT NULL DEFAULT false,
    PRIMARY KEY (contract_id, reg_key),
    CONSTRAINT registration_once
        EXCLUDE USING gist ((registration_hash(reg_key)) WITH &&, cover WITH &&) WHERE (NOT grandfathered)
);
CREATE INDEX registration_holds_key ON registration_holds (reg_key);

-- What the given contracts hold now: one row per (contract, number), the cover as a multirange.
CREATE FUNCTION registration_covers(ids bigint[])
    RETURNS TABLE (contract_id bigint, reg_key text, cover tstzmultirange)
    LANGUAGE sql STABLE
    AS $$
    SELECT c.id, registration_key(v.registration_no), range_agg(p.r * cv.valid)
      FROM contracts c
      JOIN contract_versions cv ON cv.contract_id = c.id AND cv.superseded_at IS NULL
      JOIN vehicles v ON v.id = cv.vehicle_id
      JOIN LATERAL (
            SELECT tstzrange(t.starts_at, t.ends_at) AS r FROM terms t
             WHERE t.contract_id = c.id AND t.status IN ('SCHEDULED', 'IN_FORCE')
            UNION ALL
            SELECT tstzrange(max(t.ends_at), NULL) FROM terms t
             WHERE t.contract_id = c.id AND 'IN_RENEWAL_GRACE' = ANY (c.statuses)
            HAVING count(*) > 0
      ) p ON p.r && cv.valid
     WHERE c.id = ANY (ids)
       AND c.statuses && ARRAY['IN_FORCE', 'IN_RENEWAL_GRACE', 'DELINQUENT', 'CANCEL_PENDING', 'SWAP_PENDING']::text[]
       AND registration_key(v.registration_no) IS NOT NULL
     GROUP BY 1, 2
    $$;

CREATE FUNCTION refresh_registration_holds(ids bigint[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    kept bigint[];  -- contracts grandfathered by this migration stay so
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    SELECT coalesce(array_agg(DISTINCT h.contract_id), '{}') INTO kept
      FROM registration_holds h WHERE h.contract_id = ANY (ids) AND h.grandfathered;
    DELETE FROM registration_holds h WHERE h.contract_id = ANY (ids);
    INSERT INTO registration_holds (contract_id, reg_key, cover, grandfathered)
    SELECT n.contract_id, n.reg_key, n.cover, n.contract_id = ANY (kept) FROM registration_covers(ids) n;
END
$$;

CREATE FUNCTION registration_holds_by_contract() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM refresh_registration_holds(ARRAY(SELECT DISTINCT contract_id FROM changed));
    RETURN NULL;
END
$$;

CREATE FUNCTION registration_holds_by_status() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- every change bumps contracts.lock_version; only a change of statuses can change a hold
    PERFORM refresh_registration_holds(ARRAY(
        SELECT n.id FROM changed n JOIN before o ON o.id = n.id WHERE n.statuses IS DISTINCT FROM o.statuses));
    RETURN NULL;
END
$$;

CREATE FUNCTION registration_holds_by_vehicle() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM refresh_registration_holds(ARRAY(
        SELECT DISTINCT cv.contract_id
          FROM changed n JOIN before o ON o.id = n.id
          JOIN contract_versions cv ON cv.vehicle_id = n.id AND cv.superseded_at IS NULL
         WHERE n.registration_no IS DISTINCT FROM o.registration_no));
    RETURN NULL;
END
$$;

CREATE TRIGGER registration_holds_versions_insert AFTER INSERT ON contract_versions
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION registration_holds_by_contract();
CREATE TRIGGER registration_holds_versions_update AFTER UPDATE ON contract_versions
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION registration_holds_by_contract();
CREATE TRIGGER registration_holds_terms_insert AFTER INSERT ON terms
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION registration_holds_by_contract();
CREATE TRIGGER registration_holds_terms_update AFTER UPDATE ON terms
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION registration_holds_by_contract();
CREATE TRIGGER registration_holds_contracts_update AFTER UPDATE ON contracts
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION registration_holds_by_status();
CREATE TRIGGER registration_holds_vehicles_update AFTER UPDATE ON vehicles
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION registration_holds_by_vehicle();

-- The holds of the contracts already there; of a pair that already collide, the earlier
-- contract holds and the later one is grandfathered.
INSERT INTO registration_holds (contract_id, reg_key, cover)
SELECT n.contract_id, n.reg_key, n.cover FROM registration_covers(ARRAY(SELECT id FROM contracts)) n
 ORDER BY n.contract_id
    ON CONFLICT DO NOTHING;
INSERT INTO registration_holds (contract_id, reg_key, cover, grandfathered)
SELECT n.contract_id, n.reg_key, n.cover, true FROM registration_covers(ARRAY(SELECT id FROM contracts)) n
 WHERE NOT EXISTS (SELECT 1 FROM registration_holds h WHERE h.contract_id = n.contract_id AND h.reg_key = n.reg_key);
UPDATE registration_holds h SET grandfathered = true
 WHERE EXISTS (SELECT 1 FROM registration_holds g WHERE g.contract_id = h.contract_id AND g.grandfathered)
   AND NOT h.grandfathered;
