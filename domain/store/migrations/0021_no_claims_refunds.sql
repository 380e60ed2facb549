-- 無事故祝金 decisions (002a L2264-2277): one per term of a contract with the rider, decided at expiry.
CREATE TABLE no_claims_refunds (
    contract_id            bigint NOT NULL REFERENCES contracts (id),
    term_id                bigint NOT NULL REFERENCES terms (id) PRIMARY KEY,
    payable                boolean NOT NULL,
    amount_yen             bigint NOT NULL CHECK (amount_yen >= 0),
    pay_on                 date,
    first_year_premium_yen bigint NOT NULL CHECK (first_year_premium_yen >= 0),
    reasons                jsonb NOT NULL,
    decided_at             timestamptz NOT NULL,
    CHECK (payable = (pay_on IS NOT NULL))
);
CREATE INDEX no_claims_refunds_contract ON no_claims_refunds (contract_id);
