-- Where an order was worked (the venue and the account on it), so that restart recovery reconciles an order only
-- against the exchange it was sent to; and a time limit that counts from when the order starts working.
ALTER TABLE orders ADD COLUMN venue text NULL;
ALTER TABLE orders ADD COLUMN account text NULL;
ALTER TABLE orders ADD COLUMN time_limit_ms bigint NULL CHECK (time_limit_ms IS NULL OR time_limit_ms > 0);
