"""Django models over the tables Chaser owns (``managed = False``), in the seed's vocabulary.

Chaser is the only writer: an order is created through ``POST /api/orders`` (so its validation applies: sizes,
symbols, the field named in the error) and executed through ``POST /api/orders/execute``; Django reads the rows.
The models need PostgreSQL (Chaser's SQLite schema keeps money as text and times as ticks, which Django can't read).
"""

import datetime

from django.db import models
from django.db.utils import NotSupportedError
from django.utils import timezone

from .. import errors
from ..client import FINAL_STATUSES, MAX_ITEMS, decimal_number
from . import client as chaser_client

__all__ = ["Order", "ChildOrder", "Fill", "Mid", "Event", "MarketTrade", "OrderQuerySet", "DF_COLUMNS"]

_MONEY = dict(max_digits=38, decimal_places=18)

# The seed's names for Chaser's API fields: refused fields are reported under the name the caller used.
_SEED_NAMES = {"type": "_type", "size": "sz", "size_type": "sz_type"}

# What create() takes (the seed's fields, and Chaser's limits and pacing); everything else on the row is Chaser's to set.
_CREATE_FIELDS = (
    "exchange", "symbol", "_type", "sz", "sz_type", "side", "reduce_only", "liquidated", "price_expected",
    "strategy", "deadline", "time_limit", "time_limit_ms", "deadline_action", "min_reprice_interval",
    "min_reprice_interval_ms",
)

# df()'s columns, in order.
DF_COLUMNS = (
    "id", "created_at", "completed_at", "exchange", "symbol", "_type", "sz", "sz_type", "status", "status_detail",
    "filled_qty", "filled_notional", "avg_price", "arrival_mid", "price_expected", "fees", "reduce_only", "strategy",
    "liquidated", "side", "slippage", "implementation_shortfall", "implementation_shortfall_bps",
)

# df()'s columns that come from Chaser's post-trade report rather than the order's row.
_REPORT_COLUMNS = ("slippage", "implementation_shortfall", "implementation_shortfall_bps")

_READ_ONLY = "Chaser is the only writer of its tables: create orders with Order.objects.create(...) (through its API), cancel with order.cancel()"


class _EpochMs(models.Func):
    """Milliseconds since the Unix epoch of a stored time, computed by PostgreSQL from the instant it holds: with
    USE_TZ=False Django reads a naive local time, which the hour a clock change repeats makes ambiguous."""

    template = "FLOOR(EXTRACT(EPOCH FROM %(expressions)s) * 1000)::bigint"
    output_field = models.BigIntegerField()


def _side(value):
    if isinstance(value, bool):
        return None
    if value in (1, -1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in ("buy", "sell"):
        return 1 if value.strip().lower() == "buy" else -1
    return None


def _refused(field, reason):
    return errors.ValidationError(400, {"title": "One or more validation errors occurred.", "errors": {field: [reason]}}, "POST", "/api/orders")


def order_body(fields):
    """The seed's create() fields as a POST /api/orders body: ``sz``'s sign gives the side when ``side`` is not
    given (+ buy, − sell); a ``side`` given must agree with it."""
    unknown = sorted(set(fields) - set(_CREATE_FIELDS))
    if unknown:
        owned = [f for f in unknown if f in {x.name for x in Order._meta.get_fields()} or f == "pk"]
        if owned:
            raise TypeError("Order.objects.create(): %s set by Chaser, not given (%s)" % (", ".join(owned), _READ_ONLY))
        raise TypeError("Order.objects.create() got unexpected keyword argument(s): %s" % ", ".join(unknown))
    body = {}
    for name in ("exchange", "symbol", "sz_type", "reduce_only", "liquidated", "price_expected", "strategy", "deadline", "time_limit", "deadline_action", "min_reprice_interval"):
        if name in fields:
            body["size_type" if name == "sz_type" else name] = fields[name]
    deadline = body.get("deadline")
    if isinstance(deadline, datetime.datetime) and timezone.is_naive(deadline):
        # As Django reads a naive time: in its time zone, not UTC.
        body["deadline"] = timezone.make_aware(deadline, timezone.get_default_timezone())
    if "_type" in fields:
        body["type"] = fields["_type"]
    if "time_limit_ms" in fields:
        limit = fields["time_limit_ms"]
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise _refused("time_limit_ms", "must be a positive whole number of milliseconds")
        body["time_limit"] = "%dms" % limit
    if "min_reprice_interval_ms" in fields:
        interval = fields["min_reprice_interval_ms"]
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 0:
            raise _refused("min_reprice_interval_ms", "must be a whole number of milliseconds, 0 or more")
        body["min_reprice_interval"] = "%dms" % interval
    if "sz" not in fields:
        raise _refused("sz", "required: the size; its sign gives the side (+ buy, − sell)")
    sz = fields["sz"]
    size, sign = sz, None
    if isinstance(sz, str):
        # Text is Chaser's to read (it refuses "1,000" and "1e3"); only its sign is taken here: none buys (".5").
        text = sz.strip()
        if text.startswith("-"):
            size, sign = text[1:], -1
        elif text:
            size, sign = text[1:] if text.startswith("+") else text, 1
    elif decimal_number(sz) is not None:
        number = decimal_number(sz)
        if not number.is_finite():
            raise _refused("sz", "must be a finite number, got %r" % (sz,))
        if number != 0:
            sign = 1 if number > 0 else -1
            size = abs(number)
    if "side" in fields and fields["side"] is not None:
        side = _side(fields["side"])
        if side is None:
            raise _refused("side", "must be 1 (buy) or -1 (sell); or leave it out and give sz a sign")
        if sign is not None and side != sign:
            raise _refused(
                "side",
                "%s disagrees with sz %s (a positive sz buys, a negative one sells); give one or make them agree" % (fields["side"], sz),
            )
        body["side"] = side
    elif sign is not None:
        body["side"] = sign
    body["size"] = size
    return body


def _seed_named(error, bodies):
    """An API error with its fields named as the caller named them (``sz``, not ``size``). The side of an order
    whose ``sz`` has no usable sign was not given, only derived: its refusal is the ``sz``'s, not a missing side."""
    if isinstance(error, errors.ApiError) and error.errors:
        renamed = {}
        for field, reasons in error.errors.items():
            prefix, _, name = field.rpartition(".")
            renamed[(prefix + "." if prefix else "") + _SEED_NAMES.get(name, name)] = reasons
        for field in list(renamed):
            prefix, _, name = field.rpartition(".")
            index = int(prefix[1:-1]) if prefix.startswith("[") else 0
            if name == "side" and (prefix + "." if prefix else "") + "sz" in renamed and index < len(bodies) and "side" not in bodies[index]:
                del renamed[field]
        problem = dict(error.problem, errors=renamed)
        return type(error)(error.status, problem, error.method, error.path, error.retry_after)
    return error


class OrderQuerySet(models.QuerySet):
    """Orders, with the seed's workflow: ``create()`` through Chaser, ``execute()``, ``df()``."""

    def create(self, **fields):
        """Creates the order through Chaser's API (its validation applies) and returns the stored row."""
        return self._create_through_chaser([order_body(fields)], [self.model()], one=True)[0]

    def bulk_create(self, objs, batch_size=None, ignore_conflicts=False, **kwargs):
        """Creates the orders through Chaser's API (all or none per 1,000) and returns them as stored."""
        objs = list(objs)
        if ignore_conflicts or kwargs.get("update_conflicts"):
            raise NotSupportedError("Order.objects.bulk_create(): Chaser creates every order once; conflicts are neither ignored nor updated")
        return self._create_through_chaser([order_body(o._create_fields()) for o in objs], objs)

    def _create_through_chaser(self, bodies, objs, one=False):
        api = chaser_client()
        created = []
        for start in range(0, len(bodies), MAX_ITEMS):
            chunk = bodies[start:start + MAX_ITEMS]
            try:
                created.extend([api.create(chunk[0])] if one else api.create(chunk))
            except errors.ApiError as e:
                raise _seed_named(e, chunk) from None
        ids = [c["id"] for c in created]
        stored = {o.pk: o for o in self.model._default_manager.using(self.db).filter(pk__in=ids)}
        missing = [i for i in ids if i not in stored]
        if missing:
            raise errors.ConfigurationError(
                "Chaser at %s created order(s) %s, but Django's database %r does not have them: CHASER_API_URL and "
                "DATABASES must point at the same database (the one chaser serve --db records in)"
                % (api.url, ", ".join(map(str, missing)), self.db)
            )
        for obj, order_id in zip(objs, ids):
            obj.__dict__.update({k: v for k, v in stored[order_id].__dict__.items() if k != "_state"})
            obj._state.adding = False
            obj._state.db = self.db
        return objs

    def execute(self, timeout=None, progress=None, poll_interval=0.5):
        """Works every order of the query concurrently on Chaser and returns when each is final (a list of the
        final orders as the API returns them). Up to 1,000 orders are claimed all or none; more go in several claims. Raises :class:`chaser.ExecutionFailed` with the reasons of the
        orders that failed, :class:`chaser.WaitTimeout` past ``timeout`` seconds (the orders keep working)."""
        ids = list(self.values_list("pk", flat=True))
        if not ids:
            return []
        final = chaser_client().execute_and_wait(sorted(ids), timeout=timeout, progress=progress, poll_interval=poll_interval)
        self._result_cache = None  # the rows changed: read them again
        self._prefetch_done = False
        return final

    def cancel(self):
        """Cancels every order of the query that is not final; returns the API's answers."""
        api = chaser_client()
        return [api.cancel(pk) for pk, status in self.values_list("pk", "status") if status not in FINAL_STATUSES]

    def df(self):
        """The post-trade table, a row per order (``DF_COLUMNS``): polars when installed, else pandas. Money as
        float for analysis (the rows keep it exact); from Chaser's report (positive = cost): ``slippage`` (fraction of
        the arrival mid) and implementation shortfall against the arrival mid with fees and the unfilled remainder,
        ``implementation_shortfall`` (USDT) and ``implementation_shortfall_bps`` (of the target at the arrival mid)."""
        frame = _frame_library()
        orders = list(self)
        reported = {}
        if orders:
            for row in chaser_client().report_rows(ids=[o.pk for o in orders]):
                reported[row["id"]] = row
        rows = [o._df_row(reported.get(o.pk, {})) for o in orders]
        if frame.__name__ == "polars":
            return frame.DataFrame({c: [r[c] for r in rows] for c in DF_COLUMNS})
        return frame.DataFrame(rows, columns=list(DF_COLUMNS))

    def update(self, **kwargs):
        raise NotSupportedError(_READ_ONLY)

    def delete(self):
        raise NotSupportedError(_READ_ONLY)


def _frame_library():
    try:
        import polars

        return polars
    except ImportError:
        pass
    try:
        import pandas

        return pandas
    except ImportError:
        raise ImportError("df() needs polars or pandas: install one (pip install polars, or apt-get install python3-pandas)") from None


OrderManager = models.Manager.from_queryset(OrderQuerySet)


class Order(models.Model):
    """A parent order: the row Chaser keeps in ``orders``, with the seed's field names."""

    id = models.BigAutoField(primary_key=True)
    exchange = models.TextField(default="binfut")
    symbol = models.TextField()
    _type = models.TextField(db_column="type", default="limit")
    sz = models.DecimalField(db_column="size", help_text="The size, always positive; side gives the direction.", **_MONEY)
    sz_type = models.TextField(db_column="size_type", help_text="n: notional in quote currency (USDT); q: base quantity.")
    side = models.SmallIntegerField(help_text="+1 buy, -1 sell.")
    reduce_only = models.BooleanField(default=False)
    liquidated = models.BooleanField(default=False)
    price_expected = models.DecimalField(default=0, **_MONEY)
    strategy = models.TextField(default="", blank=True)
    deadline = models.DateTimeField(null=True)
    deadline_action = models.TextField(default="cancel", help_text="cancel: cancel and expire at the deadline; take: then take the remainder with a market order.")
    time_limit_ms = models.BigIntegerField(null=True)
    min_reprice_interval_ms = models.BigIntegerField(null=True, help_text="This order's least time between two re-pricing requests; null: the engine's.")
    status = models.TextField(default="new")
    status_detail = models.TextField(null=True)
    venue = models.TextField(null=True)
    account = models.TextField(null=True)
    heartbeat_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True)
    completed_at = models.DateTimeField(null=True)
    arrival_mid = models.DecimalField(default=0, **_MONEY)
    filled_qty = models.DecimalField(default=0, **_MONEY)
    filled_notional = models.DecimalField(default=0, **_MONEY)
    avg_price = models.DecimalField(default=0, **_MONEY)
    fees = models.DecimalField(default=0, **_MONEY)
    # The column is named child_orders; the name is the related child orders' here, as the issue asks.
    child_order_count = models.IntegerField(db_column="child_orders", default=0)
    modifies = models.IntegerField(default=0)
    cancels = models.IntegerField(default=0)
    post_only_rejects = models.IntegerField(default=0)

    objects = OrderManager()

    class Meta:
        managed = False
        db_table = "orders"
        ordering = ["id"]

    def __str__(self):
        return "order %s: %s %s %s %s (%s)" % (self.pk, "buy" if self.side == 1 else "sell", self.sz, self.sz_type, self.symbol, self.status)

    @property
    def is_final(self):
        return self.status in FINAL_STATUSES

    @property
    def mids(self):
        """``[(mid, exchange time in ms), …]`` from the ``mids`` table, in arrival order."""
        rows = self.mid_rows.order_by("received_time", "id").annotate(exchange_ms=_EpochMs("exchange_time"))
        return [(float(mid), ms) for mid, ms in rows.values_list("mid", "exchange_ms")]

    @property
    def trades(self):
        """``[(price, qty, exchange time in ms), …]`` from the ``fills`` table, in exchange time order."""
        rows = self.fills.order_by("exchange_time", "id").annotate(exchange_ms=_EpochMs("exchange_time"))
        return [(float(price), float(qty), ms) for price, qty, ms in rows.values_list("price", "qty", "exchange_ms")]

    def execute(self, timeout=None, progress=None, poll_interval=0.5):
        """Works this order on Chaser and returns when it is final (see ``OrderQuerySet.execute``)."""
        final = type(self)._default_manager.using(self._state.db or "default").filter(pk=self.pk).execute(timeout, progress, poll_interval)
        self.refresh_from_db()
        return final[0] if final else None

    def cancel(self):
        """Cancels the order through Chaser: a new one at once, a working one by its engine."""
        return chaser_client().cancel(self.pk)

    def save(self, *args, **kwargs):
        """A new order is created through Chaser's API; a stored one is Chaser's to change."""
        if self.pk is None and self._state.adding:
            type(self)._default_manager.using(kwargs.get("using") or self._state.db or "default").bulk_create([self])
            return
        raise NotSupportedError(_READ_ONLY)

    def delete(self, *args, **kwargs):
        raise NotSupportedError(_READ_ONLY)

    def _create_fields(self):
        """The fields a new instance was given, for save() and bulk_create()."""
        return {name: getattr(self, name) for name in _CREATE_FIELDS if getattr(self, name, None) is not None}

    def _df_row(self, report_row):
        def number(value):
            return None if value is None else float(value)

        row = {c: getattr(self, c) for c in DF_COLUMNS if c != "id" and c not in _REPORT_COLUMNS}
        row["id"] = self.pk
        for c in ("sz", "filled_qty", "filled_notional", "avg_price", "arrival_mid", "price_expected", "fees"):
            row[c] = number(row[c])
        for c in _REPORT_COLUMNS:
            row[c] = number(report_row.get(c))
        return row


class ChildOrder(models.Model):
    """A child order (``child_orders``): the latest known state of one post-only (or market) order sent."""

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.DO_NOTHING, related_name="child_orders", db_column="order_id", db_constraint=False)
    client_order_id = models.TextField()
    exchange_order_id = models.BigIntegerField(default=0)
    sequence = models.IntegerField()
    type = models.TextField()
    price = models.DecimalField(**_MONEY)
    qty = models.DecimalField(**_MONEY)
    status = models.TextField()
    filled_qty = models.DecimalField(default=0, **_MONEY)
    modifies = models.IntegerField(default=0)
    sent_at = models.DateTimeField()
    acked_at = models.DateTimeField(null=True)
    done_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "child_orders"
        ordering = ["order_id", "sequence"]


class Fill(models.Model):
    """A fill (``fills``): one execution of a child order, stored once per trade id."""

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.DO_NOTHING, related_name="fills", db_column="order_id", db_constraint=False)
    client_order_id = models.TextField()
    trade_id = models.BigIntegerField()
    price = models.DecimalField(**_MONEY)
    qty = models.DecimalField(**_MONEY)
    fee = models.DecimalField(**_MONEY)
    fee_asset = models.TextField(null=True)
    is_maker = models.BooleanField()
    exchange_time = models.DateTimeField()
    received_time = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "fills"
        ordering = ["order_id", "exchange_time", "id"]


class Mid(models.Model):
    """A mid sample (``mids``): the book's top when its mid changed. ``order.mid_rows`` (``order.mids`` is the seed's tuples)."""

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.DO_NOTHING, related_name="mid_rows", db_column="order_id", db_constraint=False)
    bid = models.DecimalField(**_MONEY)
    ask = models.DecimalField(**_MONEY)
    mid = models.DecimalField(**_MONEY)
    exchange_time = models.DateTimeField()
    received_time = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "mids"
        ordering = ["order_id", "received_time", "id"]


class Event(models.Model):
    """A decision of the chaser (``events``) with its cause and tick-to-order latency."""

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.DO_NOTHING, related_name="events", db_column="order_id", db_constraint=False)
    time = models.DateTimeField()
    kind = models.TextField()
    client_order_id = models.TextField(null=True)
    price = models.DecimalField(null=True, **_MONEY)
    qty = models.DecimalField(null=True, **_MONEY)
    trigger = models.TextField()
    rule = models.TextField()
    finish_reason = models.TextField(null=True)
    detail = models.TextField(null=True)
    tick_to_order_us = models.FloatField(null=True)

    class Meta:
        managed = False
        db_table = "events"
        ordering = ["order_id", "time", "id"]


class MarketTrade(models.Model):
    """A print on the market's tape while the order worked (``market_trades``)."""

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.DO_NOTHING, related_name="market_trades", db_column="order_id", db_constraint=False)
    price = models.DecimalField(**_MONEY)
    qty = models.DecimalField(**_MONEY)
    buyer_is_maker = models.BooleanField()
    exchange_time = models.DateTimeField()
    received_time = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "market_trades"
        ordering = ["order_id", "received_time", "id"]
