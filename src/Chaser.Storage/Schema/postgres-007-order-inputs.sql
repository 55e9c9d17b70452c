-- Every input a parent order's state machine was handed (book tops, depth, trades, acks, rejects, fills, finishes,
-- status reports, connectivity, rate and cancel budgets, user cancel, timers), in order, and first (kind 'start')
-- what the machine was built from: `chaser replay --order N` re-runs the machine from these and compares its commands
-- with `events`.
-- One compact row per input: kind, time, the kind's fields as text (see OrderInputs), and how many decisions (rows of
-- events) the order had before it, so that a replay knows which decisions followed which input. time is UTC ticks (100 ns),
-- a bigint rather than timestamptz (microseconds): the machine compares times to the tick, and a replay must see the same.
CREATE TABLE order_inputs (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id          bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    time              bigint NOT NULL,
    kind              text   NOT NULL,
    payload           text   NOT NULL,
    decisions_before  integer NOT NULL CHECK (decisions_before >= 0)
);
CREATE INDEX ix_order_inputs_order_id ON order_inputs (order_id, id);
