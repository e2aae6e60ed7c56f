"""Text-watermark API auth: appId + salt + md5 signature, or tokens kept (hashed) in SQLite."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from blur_sdk.errors import BlurSdkError, ConfigError
from blur_sdk.server.sqlite_file import connection, create, transaction
from blur_sdk.settings import Settings

APP_ID_LENGTH = 16
SALT_RE = re.compile(r"[1-9][0-9]{7}")
SIGN_RE = re.compile(r"[0-9a-f]{32}")
TOKEN_RE = re.compile(r"[0-9a-z]{32}")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TextmarkAuthError(BlurSdkError):
    """A request or token request refused: status 401 (credentials) or 403 (not allowed)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


def md5_hex(data: bytes) -> str:
    """The lowercase hex md5 of data (the image's imageMd5)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def signature(app_id: str, image_md5: str, salt: str, secret: str) -> str:
    """The vendor's x-access-api-sign: lowercase hex md5(appId + imageMd5 + salt + appSecret)."""
    return md5_hex(f"{app_id}{image_md5}{salt}{secret}".encode())


def token_id(token: str) -> str:
    """The stored form of a token (its sha256): tokens are never written to disk."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison; digests hide the expected value's length."""
    return hmac.compare_digest(
        hashlib.sha256(given.encode("utf-8")).digest(),
        hashlib.sha256(expected.encode("utf-8")).digest(),
    )


def _parse_apps(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    apps: dict[str, str] = {}
    for app_id, secret in pairs:
        if len(app_id) != APP_ID_LENGTH:
            raise ConfigError(
                f"TEXTMARK_APPS: appId {app_id!r} has {len(app_id)} characters, "
                f"expected {APP_ID_LENGTH}"
            )
        if app_id in apps:
            raise ConfigError(f"TEXTMARK_APPS: appId {app_id!r} is listed twice")
        apps[app_id] = secret
    return apps


def _parse_ips(
    pairs: tuple[tuple[str, str], ...], apps: dict[str, str]
) -> dict[str, tuple[Network, ...]]:
    ips: dict[str, tuple[Network, ...]] = {}
    for app_id, value in pairs:
        if app_id not in apps:
            raise ConfigError(f"TEXTMARK_APP_IPS: appId {app_id!r} is not one of TEXTMARK_APPS")
        networks = list(ips.get(app_id, ()))
        for item in value.split("|"):
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ConfigError(
                    f"TEXTMARK_APP_IPS: {app_id}: {item.strip()!r} is not an IP address or CIDR"
                ) from None
        ips[app_id] = tuple(networks)
    return ips


@dataclass(frozen=True)
class Credentials:
    """The configured apps (appId -> appSecret) and their optional IP allow-lists."""

    apps: dict[str, str]
    ips: dict[str, tuple[Network, ...]]

    @classmethod
    def from_settings(cls, settings: Settings) -> Credentials:
        """Parse TEXTMARK_APPS and TEXTMARK_APP_IPS; ConfigError naming the variable."""
        apps = _parse_apps(settings.textmark_apps)
        return cls(apps=apps, ips=_parse_ips(settings.textmark_app_ips, apps))

    @property
    def enabled(self) -> bool:
        """Auth is on when at least one app is configured."""
        return bool(self.apps)

    def check_ip(self, app_id: str, client_ip: str) -> None:
        """TextmarkAuthError(403) unless the app has no allow-list or client_ip is on it."""
        networks = self.ips.get(app_id)
        if not networks:
            return
        try:
            address = ipaddress.ip_address(client_ip.strip())
        except ValueError:
            raise TextmarkAuthError(
                f"client IP {client_ip[:64]!r} is not allowed for this app (TEXTMARK_APP_IPS)", 403
            ) from None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not any(address in network for network in networks):
            raise TextmarkAuthError(
                f"client IP {address} is not allowed for this app (TEXTMARK_APP_IPS)", 403
            )


class TokenBook:
    """Issued tokens (sha256 only) and tokens issued per app per UTC day, shared by processes."""

    def __init__(
        self,
        path: Path,
        credentials: Credentials,
        per_day: int,
        ttl: float = 1800.0,
        grace: float = 300.0,
    ) -> None:
        self.path = path
        self.credentials = credentials
        self.per_day = per_day
        self.ttl = ttl
        self.grace = grace
        create(
            path,
            "CREATE TABLE IF NOT EXISTS textmark_tokens "
            "(token TEXT PRIMARY KEY, app TEXT NOT NULL, expires REAL NOT NULL)",
            "CREATE TABLE IF NOT EXISTS textmark_issued "
            "(app TEXT, day TEXT, count INTEGER, PRIMARY KEY (app, day))",
        )

    def issue(
        self, app_id: str, app_secret: str, client_ip: str, now: float | None = None
    ) -> tuple[str, float]:
        """A new token and its expiry (epoch s); 401 wrong app/secret, 403 IP or daily limit."""
        now = time.time() if now is None else now
        if not self.credentials.enabled:
            raise TextmarkAuthError("no tokens are issued: auth is off (TEXTMARK_APPS is empty)")
        known = self.credentials.apps.get(app_id)
        secret_ok = _same(app_secret, known if known is not None else secrets.token_hex(16))
        if known is None:
            raise TextmarkAuthError("appId: unknown app")
        if not secret_ok:
            raise TextmarkAuthError("appSecret: does not match this appId")
        self.credentials.check_ip(app_id, client_ip)
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        token = secrets.token_hex(16)
        expires = now + self.ttl
        with transaction(self.path) as db:
            row = db.execute(
                "SELECT count FROM textmark_issued WHERE app = ? AND day = ?", (app_id, day)
            ).fetchone()
            issued = int(row[0]) if row else 0
            if issued >= self.per_day:
                raise TextmarkAuthError(
                    f"token daily limit reached: {issued} of {self.per_day} tokens issued today "
                    "(UTC) for this app (TEXTMARK_TOKENS_PER_DAY)",
                    403,
                )
            db.execute(
                "INSERT INTO textmark_issued (app, day, count) VALUES (?, ?, 1) "
                "ON CONFLICT(app, day) DO UPDATE SET count = count + 1",
                (app_id, day),
            )
            db.execute("DELETE FROM textmark_issued WHERE day < ?", (day,))
            db.execute("DELETE FROM textmark_tokens WHERE expires < ?", (now - self.grace,))
            db.execute(
                "INSERT INTO textmark_tokens (token, app, expires) VALUES (?, ?, ?)",
                (token_id(token), app_id, expires),
            )
        return token, expires

    def check(self, token: str, client_ip: str, now: float | None = None) -> str:
        """The app id of a valid token; 401 malformed, unknown or expired (ttl + grace), 403 IP."""
        now = time.time() if now is None else now
        if not TOKEN_RE.fullmatch(token):
            raise TextmarkAuthError(
                "x-access-api-token: malformed, expected 32 lowercase letters or digits"
            )
        with connection(self.path) as db:
            row = db.execute(
                "SELECT app, expires FROM textmark_tokens WHERE token = ?", (token_id(token),)
            ).fetchone()
        if row is None or str(row[0]) not in self.credentials.apps:
            raise TextmarkAuthError("x-access-api-token: unknown token")
        app_id, expires = str(row[0]), float(row[1])
        if now > expires + self.grace:
            raise TextmarkAuthError("x-access-api-token: expired, request a new token")
        self.credentials.check_ip(app_id, client_ip)
        return app_id


def authenticate(
    credentials: Credentials,
    tokens: TokenBook,
    *,
    app_id: str,
    salt: str,
    sign: str,
    token: str,
    image_md5: str,
    client_ip: str,
) -> str | None:
    """The request's app id (None when auth is off); TextmarkAuthError (401 / 403) otherwise.

    A token header wins when given; otherwise appId + salt + x-access-api-sign must match."""
    if not credentials.enabled:
        return None
    if token:
        return tokens.check(token, client_ip)
    if not (app_id or salt or sign):
        raise TextmarkAuthError(
            "credentials required: send x-access-api-token, or appId, salt and x-access-api-sign"
        )
    if len(app_id) != APP_ID_LENGTH:
        raise TextmarkAuthError(f"appId: expected {APP_ID_LENGTH} characters, got {len(app_id)}")
    secret = credentials.apps.get(app_id)
    if secret is None:
        raise TextmarkAuthError("appId: unknown app")
    if not SALT_RE.fullmatch(salt):
        raise TextmarkAuthError("salt: expected 8 digits, the first not 0")
    if not SIGN_RE.fullmatch(sign):
        raise TextmarkAuthError("x-access-api-sign: expected 32 lowercase hex digits (an md5)")
    expected = signature(app_id, image_md5, salt, secret)
    if not hmac.compare_digest(sign.encode("ascii"), expected.encode("ascii")):
        raise TextmarkAuthError(
            "x-access-api-sign: does not match md5(appId + imageMd5 + salt + appSecret)"
        )
    credentials.check_ip(app_id, client_ip)
    return app_id
