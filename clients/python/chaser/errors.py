"""Typed errors: each API error carries the server's RFC 7807 problem details (never the token)."""

__all__ = [
    "ChaserError",
    "ConfigurationError",
    "ConnectionFailed",
    "ConnectionLost",
    "ApiError",
    "ValidationError",
    "AuthenticationError",
    "NotFoundError",
    "ConflictError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "ServiceUnavailableError",
    "ExecutionFailed",
    "WaitTimeout",
]


class ChaserError(Exception):
    """Everything this package raises on purpose."""


class ConfigurationError(ChaserError):
    """The client is not configured: no token, or a URL that is not http(s)."""


class ConnectionFailed(ChaserError):
    """Chaser could not be reached (after the retries), or the connection broke before an answer.

    ``sent`` says whether the request may have reached the server: when True for a POST, its outcome is unknown
    (read the orders back before sending it again).
    """

    def __init__(self, message, sent=False):
        super().__init__(message)
        self.sent = sent


class ConnectionLost(ConnectionFailed):
    """Chaser could not be reached while waiting for orders it had claimed. ``pending`` lists the ones not final when
    last seen (``orders``): a child order of theirs may still rest on the exchange until ``chaser serve`` starts again
    on the same database and recovers them; then waiting again returns their final state."""

    def __init__(self, message, pending, orders):
        self.pending = list(pending)
        self.orders = list(orders)
        super().__init__(
            "%s — while waiting for %d order(s) not final when last seen: %s. A child order of theirs may still rest on "
            "the exchange: chaser serve recovers them when it starts again on the same database (cancels what rests, "
            "reconciles the fills); then wait again for their final state"
            % (message, len(self.pending), ", ".join(str(i) for i in self.pending)),
            sent=True,
        )


class ApiError(ChaserError):
    """An HTTP error answer. ``problem`` is the problem body as sent; ``errors`` maps each refused field to its reasons."""

    def __init__(self, status, problem, method="", path="", retry_after=None):
        self.status = status
        self.problem = problem if isinstance(problem, dict) else {}
        self.title = self.problem.get("title") or ""
        self.detail = self.problem.get("detail") or ""
        errors = self.problem.get("errors")
        self.errors = dict(errors) if isinstance(errors, dict) else {}
        ids = self.problem.get("ids")
        self.ids = list(ids) if isinstance(ids, list) else []
        self.method = method
        self.path = path
        self.retry_after = retry_after
        super().__init__(self._message())

    def _message(self):
        parts = ["%s %s: %s %s" % (self.method, self.path, self.status, self.title or "error")]
        if self.detail:
            parts.append(self.detail)
        for field, reasons in sorted(self.errors.items()):
            parts.append("%s: %s" % (field, "; ".join(str(r) for r in reasons) if isinstance(reasons, list) else reasons))
        return " — ".join(parts)


class ValidationError(ApiError):
    """400: a field was refused (named in ``errors``); nothing was stored or claimed."""


class AuthenticationError(ApiError):
    """401: the bearer token is missing or wrong."""


class NotFoundError(ApiError):
    """404: no such order (``ids`` lists them for an execute)."""


class ConflictError(ApiError):
    """409: an order is not new (already claimed or final), or is worked by another process."""


class PayloadTooLargeError(ApiError):
    """413: more than the API takes in one request."""


class RateLimitedError(ApiError):
    """429: over the rate limit; ``retry_after`` seconds."""


class ServiceUnavailableError(ApiError):
    """503: the database or the exchange is unavailable; ``retry_after`` seconds."""


_BY_STATUS = {
    400: ValidationError,
    401: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
    503: ServiceUnavailableError,
}


def api_error(status, problem, method, path, retry_after=None):
    """The typed error for an HTTP status."""
    return _BY_STATUS.get(status, ApiError)(status, problem, method, path, retry_after)


class ExecutionFailed(ChaserError):
    """Orders ended ``failed``. ``failures`` maps each failed id to Chaser's reason; ``orders`` holds every final order."""

    def __init__(self, failures, orders):
        self.failures = dict(failures)
        self.orders = list(orders)
        reasons = "; ".join("order %s: %s" % (i, r or "no reason recorded") for i, r in sorted(self.failures.items()))
        super().__init__("%d order(s) failed: %s" % (len(self.failures), reasons))


class WaitTimeout(ChaserError):
    """The timeout passed before every order was final; they keep working on Chaser. ``pending`` lists their ids."""

    def __init__(self, pending, orders, timeout):
        self.pending = list(pending)
        self.orders = list(orders)
        super().__init__(
            "%d order(s) not final after %s s (they keep working on Chaser; cancel them or wait again): %s"
            % (len(self.pending), timeout, ", ".join(str(i) for i in self.pending))
        )
