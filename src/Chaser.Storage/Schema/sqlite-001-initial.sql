-- Chaser schema v1 (SQLite). Decimals are TEXT (invariant culture) so they round-trip exactly; times are INTEGER
-- UTC ticks (100 ns since 0001-01-01, truncated to microseconds) so that ordering and range queries work.
CREATE TABLE orders (
    id                INTEGER PRIMARY KEY,
    exchange          TEXT    NOT NULL DEFAULT 'binfut',
    symbol            TEXT    NOT NULL,
    type              TEXT    NOT NULL DEFAULT 'limit',
    size              TEXT    NOT NULL,
    size_type         TEXT    NOT NULL CHECK (size_type IN ('n', 'q')),
    side              INTEGER NOT NULL CHECK (side IN (1, -1)),
    reduce_only       INTEGER NOT NULL DEFAULT 0,
    liquidated        INTEGER NOT NULL DEFAULT 0,
    price_expected    TEXT    NOT NULL DEFAULT '0',
    strategy          TEXT    NOT NULL DEFAULT '',
    deadline          INTEGER NULL,
    deadline_action   TEXT    NOT NULL DEFAULT 'cancel' CHECK (deadline_action IN ('cancel', 'take')),
    status            TEXT    NOT NULL DEFAULT 'new'
                      CHECK (status IN ('new', 'working', 'filled', 'canceled', 'failed', 'expired')),
    status_detail     TEXT    NULL,
    created_at        INTEGER NOT NULL,
    started_at        INTEGER NULL,
    completed_at      INTEGER NULL,
    arrival_mid       TEXT    NOT NULL DEFAULT '0',
    filled_qty        TEXT    NOT NULL DEFAULT '0',
    filled_notional   TEXT    NOT NULL DEFAULT '0',
    avg_price         TEXT    NOT NULL DEFAULT '0',
    fees              TEXT    NOT NULL DEFAULT '0',
    child_orders      INTEGER NOT NULL DEFAULT 0,
    modifies          INTEGER NOT NULL DEFAULT 0,
    cancels           INTEGER NOT NULL DEFAULT 0,
    post_only_rejects INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_orders_status_created_at ON orders (status, created_at);
CREATE INDEX ix_orders_strategy_created_at ON orders (strategy, created_at);
CREATE INDEX ix_orders_created_at ON orders (created_at);

CREATE TABLE child_orders (
    id                INTEGER PRIMARY KEY,
    order_id          INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    client_order_id   TEXT    NOT NULL,
    exchange_order_id INTEGER NOT NULL DEFAULT 0,
    sequence          INTEGER NOT NULL,
    type              TEXT    NOT NULL,
    price             TEXT    NOT NULL,
    qty               TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    filled_qty        TEXT    NOT NULL DEFAULT '0',
    modifies          INTEGER NOT NULL DEFAULT 0,
    sent_at           INTEGER NOT NULL,
    acked_at          INTEGER NULL,
    done_at           INTEGER NULL,
    updated_at        INTEGER NOT NULL
);
CREATE UNIQUE INDEX ux_child_orders_client_order_id ON child_orders (client_order_id);
CREATE INDEX ix_child_orders_order_id_sent_at ON child_orders (order_id, sent_at);

CREATE TABLE fills (
    id                INTEGER PRIMARY KEY,
    order_id          INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    client_order_id   TEXT    NOT NULL,
    trade_id          INTEGER NOT NULL,
    price             TEXT    NOT NULL,
    qty               TEXT    NOT NULL,
    fee               TEXT    NOT NULL,
    fee_asset         TEXT    NULL,
    is_maker          INTEGER NOT NULL,
    exchange_time     INTEGER NOT NULL,
    received_time     INTEGER NOT NULL
);
-- A fill is stored once however often it is reported (stream and userTrades both report it).
CREATE UNIQUE INDEX ux_fills_order_id_trade_id ON fills (order_id, trade_id);
CREATE INDEX ix_fills_order_id_exchange_time ON fills (order_id, exchange_time);

CREATE TABLE mids (
    id                INTEGER PRIMARY KEY,
    order_id          INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    bid               TEXT    NOT NULL,
    ask               TEXT    NOT NULL,
    mid               TEXT    NOT NULL,
    exchange_time     INTEGER NOT NULL,
    received_time     INTEGER NOT NULL
);
CREATE INDEX ix_mids_order_id_received_time ON mids (order_id, received_time);

CREATE TABLE events (
    id                INTEGER PRIMARY KEY,
    order_id          INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    time              INTEGER NOT NULL,
    kind              TEXT    NOT NULL,
    client_order_id   TEXT    NULL,
    price             TEXT    NULL,
    qty               TEXT    NULL,
    trigger           TEXT    NOT NULL,
    rule              TEXT    NOT NULL,
    finish_reason     TEXT    NULL,
    detail            TEXT    NULL,
    tick_to_order_us  REAL    NULL
);
CREATE INDEX ix_events_order_id_time ON events (order_id, time);
