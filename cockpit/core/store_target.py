"""Which PostgreSQL server a store URL names, checked without importing the driver.

Passwords never live in the config: a URL carrying one is refused. The password comes from
libpq's own `PGPASSWORD` / `PGPASSFILE` (~/.pgpass), or from the variable named by
`[cockpit] password_env`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cockpit.core.records import Record

SCHEMES = ("postgresql", "postgres")
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")

PASSWORD_ADVICE = (
    "put the password in PGPASSWORD, in ~/.pgpass (PGPASSFILE), or in the variable named by"
    " [cockpit] password_env"
)

# Defaults a URL may override: fail over to the outbox within seconds, not TCP's minutes.
CONNECT_DEFAULTS: dict[str, Any] = {
    "connect_timeout": "5",
    "tcp_user_timeout": "5000",
    "keepalives": "1",
    "keepalives_idle": "5",
    "keepalives_interval": "2",
    "keepalives_count": "2",
    "application_name": "cockpit",
}


class StoreURL(str):
    """A `postgresql://` store URL that passed `check_store_url` (no password in it)."""

    __slots__ = ()


def is_store_url(text: str) -> bool:
    """True for `postgresql://...` and `postgres://...` (anything else is a SQLite path)."""
    return text.split("://", 1)[0].lower() in SCHEMES and "://" in text


def check_store_url(text: str) -> StoreURL:
    """The URL as a StoreURL, or ValueError with one line saying what is wrong with it."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a valid postgresql:// URL ({exc})") from None
    if parts.password is not None:
        raise ValueError(f"the URL carries a password; remove it and {PASSWORD_ADVICE}")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "password" in params:
        raise ValueError(f"the URL carries a password= parameter; remove it and {PASSWORD_ADVICE}")
    sslmode = params.get("sslmode")
    if sslmode is not None and sslmode not in SSL_MODES:
        raise ValueError(f"sslmode={sslmode!r} is not one of {', '.join(SSL_MODES)}")
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"port {port} is out of range")
    return StoreURL(text)


def display_url(url: str) -> str:
    """The URL as shown in messages: it holds no password, but drop the query's noise."""
    return url.split("?", 1)[0]


class PgTarget(Record):
    """A PostgreSQL store: the server's URL, where the password comes from, and the local
    outbox file for writes made while the server is unreachable."""

    _fields = ("url", "password_env", "outbox")

    url: StoreURL
    password_env: str | None
    outbox: Path | None
    """The local outbox file; None puts it in the user's data folder, one file per server."""

    def __init__(
        self, url: StoreURL, password_env: str | None = None, outbox: Path | None = None
    ) -> None:
        self.__dict__.update(url=url, password_env=password_env, outbox=outbox)

    @property
    def location(self) -> str:
        """How messages name this store."""
        return display_url(self.url)

    def outbox_path(self) -> Path:
        """The outbox file: as configured, else `<data dir>/cockpit/outbox/<server>.db`."""
        if self.outbox is not None:
            return self.outbox
        import hashlib  # only for a PostgreSQL store without a configured outbox

        from platformdirs import user_data_path

        digest = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        return user_data_path("cockpit") / "outbox" / f"{digest}.db"

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `psycopg.connect(url, **kwargs)`: timeouts the URL does not
        set, and the password from `password_env` when configured.

        Raises LookupError (one line) when `password_env` names an unset variable.
        """
        params = dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))
        kwargs = {k: v for k, v in CONNECT_DEFAULTS.items() if k not in params}
        if self.password_env:
            password = os.environ.get(self.password_env)
            if not password:
                raise LookupError(
                    f"[cockpit] password_env names {self.password_env}, which is not set"
                )
            kwargs["password"] = password
        return kwargs
