"""A client of Chaser's HTTP API (``chaser serve``), standard library only.

Money comes back as :class:`decimal.Decimal` (JSON numbers are parsed exactly) and goes out as decimal strings, so a
size is never rounded through a float on its way to the exchange.
"""

import datetime
import http.client
import json
import logging
import numbers
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

from .errors import (
    ConfigurationError,
    ConflictError,
    ConnectionFailed,
    ConnectionLost,
    ExecutionFailed,
    NotFoundError,
    RateLimitedError,
    ServiceUnavailableError,
    WaitTimeout,
    api_error,
)

__all__ = ["Client", "FINAL_STATUSES", "DEFAULT_URL", "decimal_text", "duration_text"]

log = logging.getLogger("chaser")

DEFAULT_URL = "http://127.0.0.1:5080"
FINAL_STATUSES = frozenset(["filled", "canceled", "failed", "expired"])

# The API takes at most 1,000 orders or ids a request; reads by id go in smaller pieces to keep URLs short.
MAX_ITEMS = 1000
_IDS_PER_QUERY = 500


def decimal_number(value):
    """A number as the Decimal it means, or None when it is not one (a bool, text, a list): an int exactly, a float
    through its shortest repr (0.1 is 0.1, not 0.1000000000000000055…). numpy's and pandas' numbers (a size taken
    from a data frame) are numbers too."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, numbers.Integral):
        return Decimal(int(value))
    if isinstance(value, numbers.Real):
        return Decimal(repr(float(value)))
    return None


def decimal_text(value, field):
    """A number as the plain decimal text the API reads (``0.00001``, never ``1e-05``); other values pass unchanged
    so that the API names the field and the reason (a bool, a list)."""
    number = decimal_number(value)
    if number is None:
        return value
    if not number.is_finite():
        raise ValueError("%s: %r is not a finite number" % (field, value))
    return format(number, "f")


def time_text(value, field):
    """A time as the ISO 8601 text the API reads, with its offset. A naive datetime is refused: Chaser would read it
    as UTC, while ``datetime.now()`` is local time (a deadline hours off)."""
    if isinstance(value, datetime.datetime):
        if value.utcoffset() is None:
            raise ValueError(
                "%s: %s has no time zone (Chaser would read it as UTC; datetime.now() is local time): give an aware "
                "datetime, e.g. datetime.now(timezone.utc) + timedelta(minutes=10)" % (field, value.isoformat())
            )
        return value.isoformat()
    return value.isoformat() if hasattr(value, "isoformat") else value


def duration_text(value):
    """A timedelta as the duration text the API reads, exactly: whole milliseconds as ``"1500ms"``, a fraction of
    one as ``"0.5ms"`` (which the API names and refuses where it needs whole milliseconds, rather than this client
    rounding it away)."""
    microseconds = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if microseconds % 1000 == 0:
        return "%dms" % (microseconds // 1000)
    return "%sms" % format(Decimal(microseconds) / 1000, "f")


def _json_scalar(value):
    """numpy's and pandas' scalars (a side or a flag taken from a data frame) as the Python value they hold."""
    if isinstance(value, numbers.Integral):
        return int(value)
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return item()
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


class _Secret:
    """The token, kept out of every repr: an error reporter (Django's debug page, Sentry) shows the repr of each
    local variable of the frames an exception passed through, and the client's frames hold it."""

    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = value._value if isinstance(value, _Secret) else value

    def reveal(self):
        return self._value

    def __repr__(self):
        return "<secret>"

    def __eq__(self, other):
        return isinstance(other, _Secret) and self._value == other._value

    def __hash__(self):
        return hash(self._value)


def _token_problem(token):
    if not isinstance(token, str) or not token.strip():
        return "token: give the API token (the one chaser serve printed) as token= or in CHASER_API_TOKEN"
    # Checked here, never quoted: http.client's own refusal of such a header value would carry the token.
    if any(not (0x21 <= ord(c) <= 0x7E) for c in token.strip()):
        return "token: has a space, a control character or a non-ASCII character; give the token as chaser serve printed it"
    return None


class Client:
    """Chaser's HTTP API.

    ``url`` defaults to ``CHASER_API_URL`` (else http://127.0.0.1:5080), ``token`` to ``CHASER_API_TOKEN``.
    ``timeout`` is per request in seconds. Connection errors are retried ``retries`` times with doubling back-off —
    for a POST only when the connection was refused (nothing was sent), so an order is never created twice; an
    HTTP error answer is never retried.
    """

    def __init__(self, url=None, token=None, timeout=30.0, retries=3, backoff=0.5):
        # First of all, so that no frame of this client holds the token as text (see _Secret).
        token = _Secret(token)
        if token.reveal() is None:
            token = _Secret(os.environ.get("CHASER_API_TOKEN"))
        url = url or os.environ.get("CHASER_API_URL") or DEFAULT_URL
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigurationError("url: %r is not an http:// or https:// address of chaser serve" % (url,))
        self.url = url.rstrip("/")
        problem = _token_problem(token.reveal())
        if problem is not None:
            raise ConfigurationError(problem)
        self._token = _Secret(token.reveal().strip())
        # None waits forever; anything else must be seconds (a setting read from the environment is text).
        seconds = decimal_number(timeout)
        if timeout is not None and (seconds is None or not seconds.is_finite() or seconds <= 0):
            raise ConfigurationError("timeout: must be a positive number of seconds a request (or None), got %r" % (timeout,))
        self.timeout = None if timeout is None else float(seconds)
        if isinstance(retries, bool) or not isinstance(retries, numbers.Integral) or retries < 0:
            raise ConfigurationError("retries: must be a whole number of retries, 0 or more, got %r" % (retries,))
        pause = decimal_number(backoff)
        if pause is None or not pause.is_finite() or pause < 0:
            raise ConfigurationError("backoff: must be seconds, 0 or more, got %r" % (backoff,))
        self.retries = int(retries)
        self.backoff = float(pause)

    def __repr__(self):
        return "Client(url=%r)" % (getattr(self, "url", None),)  # never the token; url is unset while __init__ refuses it

    # -- orders -----------------------------------------------------------------------------------------------

    def create_order(self, symbol, side, size, size_type, **fields):
        """Creates one parent order (status ``new``) and returns it as stored. ``side`` is 1/-1 or "buy"/"sell";
        ``size_type`` "n" (notional, USDT) or "q" (base quantity); other fields: exchange, type, price_expected,
        strategy, reduce_only, liquidated, deadline (ISO 8601), time_limit ("10m"), deadline_action ("cancel", or
        "take": take the remainder with a market order at the deadline or time limit) and min_reprice_interval
        ("200ms": this order's least time between two re-pricing requests). Durations may be timedeltas."""
        order = dict(fields, symbol=symbol, side=side, size=size, size_type=size_type)
        return self._request("POST", "/api/orders", body=self._order_body(order))

    def create(self, orders):
        """POST /api/orders as it stands: one order (a dict of API fields) or a list of them; returns the same shape.
        A refused field of a list is named with its index (``[1].size``)."""
        if isinstance(orders, dict):
            return self._request("POST", "/api/orders", body=self._order_body(orders))
        return self.create_orders(orders)

    def create_orders(self, orders):
        """Creates several orders in one request (all or none; at most 1,000); returns them as stored, in order."""
        orders = list(orders)
        if not orders:
            return []
        return self._request("POST", "/api/orders", body=[self._order_body(o) for o in orders])

    def execute(self, ids):
        """Claims the orders (all or none) and starts working them; returns at once with ``{"ids", "status"}``."""
        return self._request("POST", "/api/orders/execute", body={"ids": self._ids(ids)})

    def execute_and_wait(self, ids, timeout=None, progress=None, poll_interval=0.5, raise_on_failure=True):
        """Executes the orders and waits until every one is final; raises :class:`ExecutionFailed` naming the
        reasons of the orders that failed (``raise_on_failure``), else returns the final orders."""
        ids = self._ids(ids)
        if len(ids) > MAX_ITEMS:
            # Several claims can't be all or none: an order that is not new would be refused only after the claims
            # before it had started theirs. Checked first, so that such a mistake claims nothing.
            self._check_new(ids)
        for start in range(0, len(ids), MAX_ITEMS):
            self._execute_or_learn(ids[start:start + MAX_ITEMS])
        final = self.wait(ids, timeout=timeout, progress=progress, poll_interval=poll_interval)
        failures = {o["id"]: o.get("status_detail") for o in final if o["status"] == "failed"}
        if failures and raise_on_failure:
            raise ExecutionFailed(failures, final)
        return final

    def _execute_or_learn(self, ids):
        """Executes the orders; when the answer is lost (the connection broke after the request went out), the
        orders say whether they were claimed (a claim is all or none): if so they are waited for like any others,
        else the error stands. Unreadable, they may be working: ConnectionLost names them."""
        try:
            self.execute(ids)
        except ConnectionFailed as e:
            if not e.sent:
                raise
            try:
                claimed = [o for o in self.orders(ids=ids) if o["status"] != "new"]
            except ConnectionFailed:
                raise ConnectionLost(str(e), ids, []) from None
            if not claimed:
                raise
            log.info("chaser: %s; the orders were claimed, waiting for them", e)

    def _check_new(self, ids):
        found = {o["id"]: o["status"] for o in self.orders(ids=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFoundError(404, {"title": "Not found", "detail": "no such order: %s; none was claimed" % ", ".join(map(str, missing)), "ids": missing}, "POST", "/api/orders/execute")
        taken = [i for i in ids if found[i] != "new"]
        if taken:
            raise ConflictError(
                409,
                {"title": "Already executed", "detail": "; ".join("order %s is %s" % (i, found[i]) for i in taken) + "; only new orders can be executed, none was claimed", "ids": taken},
                "POST",
                "/api/orders/execute",
            )

    def wait(self, ids, timeout=None, progress=None, poll_interval=0.5):
        """Polls until every order is final and returns them (in the order of ``ids``). ``progress(orders)`` is
        called whenever something changed (else the progress goes to the ``chaser`` logger); past ``timeout``
        seconds :class:`WaitTimeout` is raised with the ids still working. A busy database (503) or the rate limit
        (429) only delays the next poll by its Retry-After: the orders work on regardless."""
        ids = self._ids(ids)
        try:
            return self._wait(ids, timeout, progress, poll_interval)
        except KeyboardInterrupt:
            # Interrupting the wait stops nothing on Chaser: say so (a warning is printed even without logging set
            # up), with the ids to cancel.
            log.warning(
                "chaser: interrupted while waiting; order(s) %s keep working on Chaser unless final: cancel them with "
                "Client.cancel(id), or orders.cancel() in Django",
                ", ".join(str(i) for i in ids),
            )
            raise

    def _wait(self, ids, timeout, progress, poll_interval):
        started = time.monotonic()
        # Each poll ends by the wait's own deadline: a server that does not answer must not hold it for the
        # request timeout times the retries.
        deadline = None if timeout is None else started + timeout
        last = None
        orders = []
        while True:
            try:
                orders = self._orders(ids, deadline=deadline)
            except ConnectionFailed as e:
                pending = [o["id"] for o in orders if o["status"] not in FINAL_STATUSES] if orders else ids
                if deadline is not None and time.monotonic() >= deadline:
                    raise WaitTimeout(pending, orders, timeout) from None
                raise ConnectionLost(str(e), pending, orders) from None
            except (RateLimitedError, ServiceUnavailableError) as e:
                pause = e.retry_after if e.retry_after is not None else poll_interval
                log.info("chaser: %s; polling again in %s s", e, pause)
                if timeout is not None and time.monotonic() + pause - started >= timeout:
                    raise WaitTimeout([o["id"] for o in orders if o["status"] not in FINAL_STATUSES] or ids, orders, timeout) from e
                time.sleep(pause)
                continue
            by_id = {o["id"]: o for o in orders}
            missing = [i for i in ids if i not in by_id]
            if missing:
                raise NotFoundError(404, {"title": "Not found", "detail": "no such order: %s" % ", ".join(map(str, missing))}, "GET", "/api/orders")
            orders = [by_id[i] for i in ids]
            state = [(o["status"], o.get("filled_qty"), o.get("filled_notional")) for o in orders]
            if state != last:
                last = state
                if progress is not None:
                    progress(orders)
                else:
                    log.info("chaser: %s", _progress_line(orders))
            pending = [o["id"] for o in orders if o["status"] not in FINAL_STATUSES]
            if not pending:
                return orders
            if timeout is not None and time.monotonic() - started >= timeout:
                raise WaitTimeout(pending, orders, timeout)
            time.sleep(poll_interval)

    def cancel(self, order_id):
        """Cancels an order: a new one at once (``status`` "canceled"), a working one by its engine ("canceling")."""
        return self._request("POST", "/api/orders/%d/cancel" % self._id(order_id))

    def order(self, order_id):
        return self._request("GET", "/api/orders/%d" % self._id(order_id))

    def orders(self, ids=None, status=None, strategy=None):
        """Orders by id (oldest first), filtered; more than the API's 1,000 a request are read in pieces."""
        return self._orders(ids, status, strategy)

    def _orders(self, ids=None, status=None, strategy=None, deadline=None):
        query = {}
        if status is not None:
            query["status"] = status
        if strategy is not None:
            query["strategy"] = strategy
        if ids is None:
            return self._request("GET", "/api/orders", query=query, deadline=deadline)
        ids = self._ids(ids)
        rows = []
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ids[start:start + _IDS_PER_QUERY]
            rows.extend(self._request("GET", "/api/orders", query=dict(query, ids=",".join(map(str, chunk))), deadline=deadline))
        return rows

    def fills(self, order_id):
        return self._request("GET", "/api/orders/%d/fills" % self._id(order_id))

    def mids(self, order_id):
        return self._request("GET", "/api/orders/%d/mids" % self._id(order_id))

    def child_orders(self, order_id):
        return self._request("GET", "/api/orders/%d/child-orders" % self._id(order_id))

    def events(self, order_id):
        return self._request("GET", "/api/orders/%d/events" % self._id(order_id))

    def report(self, ids=None, strategy=None, since=None, limit=None):
        """The post-trade report ``{"orders": [...], "aggregates": [...]}`` (the newest ``limit`` matching orders)."""
        return self._request("GET", "/api/report", query=self._report_query(ids, strategy, since, limit))

    def report_rows(self, ids=None, strategy=None, since=None, limit=None):
        """The report's per-order rows; for many ids, read in pieces."""
        if ids is None:
            return self.report(strategy=strategy, since=since, limit=limit)["orders"]
        ids = self._ids(ids)
        rows = []
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ids[start:start + _IDS_PER_QUERY]
            rows.extend(self.report(ids=chunk, strategy=strategy, since=since, limit=limit or len(chunk))["orders"])
        return rows

    def report_csv(self, ids=None, strategy=None, since=None, limit=None):
        """The report's rows as CSV text (RFC 4180, the same column names as the JSON)."""
        return self._request("GET", "/api/report", query=self._report_query(ids, strategy, since, limit), accept="text/csv")

    def openapi(self):
        """The API's OpenAPI document."""
        return self._request("GET", "/openapi/v1.json")

    # -- plumbing ---------------------------------------------------------------------------------------------

    @staticmethod
    def _order_body(order):
        if not isinstance(order, dict):
            raise TypeError("each order must be a dict of fields, got %s" % type(order).__name__)
        body = {}
        for key, value in order.items():
            if key in ("size", "price_expected"):
                value = decimal_text(value, key)
            elif key in ("time_limit", "min_reprice_interval") and isinstance(value, datetime.timedelta):
                value = duration_text(value)
            else:
                value = time_text(value, key)
            body[key] = value
        return body

    @staticmethod
    def _id(order_id):
        # numbers.Integral: numpy's and pandas' integers (ids taken from a data frame) are ids too.
        if isinstance(order_id, bool) or not isinstance(order_id, numbers.Integral) or order_id <= 0:
            raise ValueError("order id: %r is not a positive whole number" % (order_id,))
        return int(order_id)

    def _ids(self, ids):
        if isinstance(ids, numbers.Integral):
            ids = [ids]
        ids = [self._id(i) for i in ids]
        if not ids:
            raise ValueError("ids: give at least one order id")
        return ids

    def _report_query(self, ids, strategy, since, limit):
        query = {}
        if ids is not None:
            query["ids"] = ",".join(str(i) for i in self._ids(ids))
        if strategy is not None:
            query["strategy"] = strategy
        if since is not None:
            query["since"] = time_text(since, "since")
        if limit is not None:
            query["limit"] = str(limit)
        return query

    def _request(self, method, path, body=None, query=None, accept="application/json", deadline=None):
        """One request, retried on connection errors (see the class); ``deadline`` (time.monotonic()) cuts each
        attempt's timeout, the back-off and the retries short."""
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None
        headers = {"Accept": accept, "User-Agent": "chaser-python"}
        if body is not None:
            data = json.dumps(body, default=_json_scalar).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif method == "POST":
            data = b""
        attempt = 0
        while True:
            request = urllib.request.Request(url, data=data, headers=headers, method=method)
            # Unredirected: a redirect (to another host) never carries the token; and no local of this frame holds it.
            request.add_unredirected_header("Authorization", "Bearer " + self._token.reveal())
            timeout = self.timeout
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ConnectionFailed("%s %s: no answer from %s before the wait's timeout" % (method, path, self.url))
                timeout = left if timeout is None else min(timeout, left)
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    payload = response.read()
                    content_type = response.headers.get("Content-Type", "")
                break
            except urllib.error.HTTPError as e:
                raise self._error(e, method, path)
            except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
                reason = e.reason if isinstance(e, urllib.error.URLError) else e
                refused = isinstance(reason, ConnectionRefusedError)
                # Past the connection, a POST may have been acted on: never sent again.
                retryable = refused or method == "GET"
                if not retryable or attempt >= self.retries:
                    sent = not refused
                    what = (
                        "could not connect" if refused
                        else "the connection broke or timed out after the request was sent; its outcome is unknown" if method == "POST"
                        else "no answer (the connection broke or timed out)"
                    )
                    raise ConnectionFailed(
                        "%s %s: %s (%s: %s) at %s" % (method, path, what, type(reason).__name__, reason, self.url),
                        sent=sent,
                    ) from None
                pause = self.backoff * (2 ** attempt)
                time.sleep(pause if deadline is None else max(0, min(pause, deadline - time.monotonic())))
                attempt += 1
        if content_type.startswith("application/json") or content_type.startswith("application/problem+json"):
            try:
                return json.loads(payload.decode("utf-8"), parse_float=Decimal)
            except ValueError:
                raise ConnectionFailed("%s %s: the answer from %s is not valid JSON (cut short?)" % (method, path, self.url), sent=method == "POST") from None
        if accept == "application/json":
            # Some other web server (a proxy's login page, the Django site itself) is at the URL: its page would
            # otherwise reach the caller as text where orders were expected.
            raise ConfigurationError(
                "url: %s answered %s %s with %s, not Chaser's JSON: is it the address chaser serve printed (CHASER_API_URL)?"
                % (self.url, method, path, content_type or "no content type")
            )
        if content_type.startswith("text/"):
            return payload.decode("utf-8")
        return payload

    @staticmethod
    def _error(e, method, path):
        try:
            problem = json.loads(e.read().decode("utf-8"), parse_float=Decimal)
        except (ValueError, OSError):
            problem = {"title": e.reason or "error"}
        retry_after = e.headers.get("Retry-After") if e.headers else None
        try:
            retry_after = int(retry_after) if retry_after is not None else None
        except ValueError:
            retry_after = None
        return api_error(e.code, problem, method, path, retry_after)


def _progress_line(orders):
    final = sum(1 for o in orders if o["status"] in FINAL_STATUSES)
    parts = []
    for o in orders[:10]:
        target = o.get("size") or Decimal(0)
        done = o.get("filled_notional") if o.get("size_type") == "n" else o.get("filled_qty")
        share = (Decimal(done or 0) / Decimal(target) * 100) if target else Decimal(0)
        parts.append("%s %s %.0f%%" % (o["id"], o["status"], share))
    more = " …" if len(orders) > 10 else ""
    return "%d/%d final: %s%s" % (final, len(orders), ", ".join(parts), more)

