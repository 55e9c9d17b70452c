-- An order's own minimum time between two re-pricing requests (milliseconds), overriding the engine's; null keeps the
-- engine's. Existing rows keep null: they are worked as before.
ALTER TABLE orders ADD COLUMN min_reprice_interval_ms bigint NULL
    CHECK (min_reprice_interval_ms IS NULL OR min_reprice_interval_ms BETWEEN 0 AND 600000);
