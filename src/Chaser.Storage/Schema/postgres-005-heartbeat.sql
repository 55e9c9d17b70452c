-- When the process working an order last said it is alive: restart recovery leaves an order alone while its
-- heartbeat is fresh (another live process works it) and reconciles it once the heartbeat has stopped.
ALTER TABLE orders ADD COLUMN heartbeat_at timestamptz NULL;
