-- An extra premium charged by a transaction (a vehicle swap or driver change filed in its window):
-- an instalment of the term like the others (same non-payment rules), due on the filing day, whose
-- payment the window's cover waits for (002b L4111-4112, L4143). NULL: the term's own schedule.
ALTER TABLE instalments ADD COLUMN transaction_id bigint REFERENCES transactions (id);
CREATE UNIQUE INDEX instalments_extra_of_transaction ON instalments (transaction_id) WHERE transaction_id IS NOT NULL;
