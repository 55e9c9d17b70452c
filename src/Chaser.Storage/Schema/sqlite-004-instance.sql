-- This database's instance: the tag inside every client order id it issues (chs-<tag>-<parent>-<seq>), so that
-- its orders are told apart from those of another database or process on the same Binance account. One row, drawn
-- at random on first use (ChaserDb.GetClientIdTagAsync; concurrent first users agree on the row that was inserted).
CREATE TABLE instance (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    client_id_tag  TEXT    NOT NULL CHECK (length(client_id_tag) = 6)
);
