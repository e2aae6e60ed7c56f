"""The address-safety rules of URL fetches: which URLs, hosts and resolved addresses are allowed."""

from __future__ import annotations

import functools
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from blur_sdk.errors import ConfigError, FetchError
from blur_sdk.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
SockAddr = tuple[int, tuple[object, ...]]  # (address family, sockaddr)

# Refused whatever the configuration says. 100.100.100.200: Alibaba Cloud metadata;
# fd00:ec2::254: AWS metadata over IPv6. Link-local, multicast, reserved are refused too.
_REFUSED_V4 = ("0.0.0.0/8", "169.254.0.0/16", "100.100.100.200/32", "255.255.255.255/32")
_REFUSED_V6 = ("::/128", "fe80::/10", "fd00:ec2::254/128")
ALWAYS_REFUSED = tuple(ipaddress.ip_network(cidr) for cidr in (*_REFUSED_V4, *_REFUSED_V6))
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class Target:
    """A parsed, checked URL: scheme, host, port and the quoted path (with query)."""

    scheme: str
    host: str
    port: int
    path: str


@functools.lru_cache(maxsize=32)
def allow_networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """URL_ALLOW_NETWORKS parsed (cached); ConfigError for an invalid CIDR."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError as e:
            raise ConfigError(f"URL_ALLOW_NETWORKS: invalid CIDR {cidr!r}: {e}") from e
    return tuple(networks)


def parse_url(url: str, field: str) -> Target:
    """Check and split a URL: http(s) only, no credentials, whitespace or bad host or port."""
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in url):
        raise FetchError(f"{field}: the URL contains whitespace or control characters", field)
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as e:  # bad port or bracketed host
        raise FetchError(f"{field}: the URL has an invalid host or port", field) from e
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"{field}: only http and https URLs are allowed", field)
    if parts.username is not None or parts.password is not None:
        raise FetchError(f"{field}: URLs with credentials (user:pass@) are not allowed", field)
    if not host:
        raise FetchError(f"{field}: the URL has no host", field)
    if port == 0:
        raise FetchError(f"{field}: the URL has an invalid host or port", field)
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def resolve(
    target: Target, settings: Settings, allowed: tuple[IPNetwork, ...], field: str
) -> list[SockAddr]:
    """Resolve the host once, check every address, return them to connect to."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise FetchError(f"{field}: could not resolve host {target.host!r}", field) from e
    infos = [info for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]
    if not infos:
        raise FetchError(f"{field}: host {target.host!r} has no IPv4/IPv6 address", field)
    for info in infos:
        check_address(str(info[4][0]), target.host, settings, allowed, field)
    return [(int(info[0]), tuple(info[4])) for info in infos]


def check_address(
    raw: str, host: str, settings: Settings, allowed: tuple[IPNetwork, ...], field: str
) -> None:
    """Refuse an address that is never allowed, or private and not allowed by the settings."""
    ip: IPAddress = ipaddress.ip_address(raw.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    elif ip in NAT64:  # 64:ff9b::a.b.c.d reaches a.b.c.d through a NAT64 gateway
        ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if (
        ip.is_link_local
        or ip.is_multicast
        or (ip.is_reserved and not ip.is_loopback)  # IPv6 ::1 sits in reserved ::/8
        or ip.is_unspecified
        or any(ip in net for net in ALWAYS_REFUSED)
    ):
        raise FetchError(
            f"{field}: host {host!r} resolves to {ip}, a link-local, metadata or "
            "reserved address, which is never allowed",
            field,
        )
    if ip.is_global or settings.url_allow_private or any(ip in net for net in allowed):
        return
    raise FetchError(
        f"{field}: host {host!r} resolves to {ip}, a loopback or private address; "
        "allow it with URL_ALLOW_NETWORKS or URL_ALLOW_PRIVATE",
        field,
    )
