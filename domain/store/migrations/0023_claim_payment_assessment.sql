-- A payment computed by a pay-out rule keeps its explanation (domain/claims/rider_payout.py, issue 14):
-- the rule, the pamphlet lines and the amount before and after each cap.
ALTER TABLE claim_payments ADD COLUMN assessment jsonb;
