-- The market's tape while a parent order worked: the VWAP benchmark of the post-trade report.
CREATE TABLE market_trades (
    id                INTEGER PRIMARY KEY,
    order_id          INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    price             TEXT    NOT NULL,
    qty               TEXT    NOT NULL,
    buyer_is_maker    INTEGER NOT NULL,
    exchange_time     INTEGER NOT NULL,
    received_time     INTEGER NOT NULL
);
CREATE INDEX ix_market_trades_order_id_received_time ON market_trades (order_id, received_time);
