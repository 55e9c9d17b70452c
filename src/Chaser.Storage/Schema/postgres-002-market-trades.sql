-- The market's tape while a parent order worked: the VWAP benchmark of the post-trade report.
CREATE TABLE market_trades (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id          bigint         NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    price             numeric(38,18) NOT NULL,
    qty               numeric(38,18) NOT NULL,
    buyer_is_maker    boolean        NOT NULL,
    exchange_time     timestamptz    NOT NULL,
    received_time     timestamptz    NOT NULL
);
CREATE INDEX ix_market_trades_order_id_received_time ON market_trades (order_id, received_time);
