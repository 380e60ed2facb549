-- The statement trigger that keeps registration holds in step with contract statuses (0018) found
-- the rows whose statuses changed by joining its OLD and NEW transition tables on id. Transition
-- tables have no statistics, so that join ran as a nested loop: a page of 1,000 contracts whose
-- event_seq the nightly recalculation bumps cost ≈ 100 ms of comparisons (1,000 × 1,000) to find
-- that no status changed (measured on a 1,000,000-contract book, issue 16). EXCEPT compares the
-- (id, statuses) pairs by hashing or sorting: same rows, linear.
CREATE OR REPLACE FUNCTION registration_holds_by_status() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- every change bumps contracts.lock_version; only a change of statuses can change a hold
    PERFORM refresh_registration_holds(ARRAY(
        SELECT d.id FROM (SELECT id, statuses FROM changed EXCEPT SELECT id, statuses FROM before) d));
    RETURN NULL;
END
$$;
