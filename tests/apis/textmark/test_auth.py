"""Text-watermark auth: signature and token schemes, IP allow-lists, Credentials parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from blur_sdk.apis.textmark.auth import (
    Credentials,
    TextmarkAuthError,
    TokenBook,
    authenticate,
    md5_hex,
    signature,
    token_id,
)
from blur_sdk.errors import ConfigError
from blur_sdk.settings import Settings, load_settings

APP = "abcdefghij012345"
SECRET = "s3cret-value"
OTHER = "ZYXWVUTSRQ987654"
IMAGE = b"\x89PNG fake image bytes"
SALT = "12345678"
T0 = 1_700_000_000.0


def creds(ips: tuple[tuple[str, str], ...] = ()) -> Credentials:
    settings = Settings(
        textmark_apps=((APP, SECRET), (OTHER, "other-secret")), textmark_app_ips=ips
    )
    return Credentials.from_settings(settings)


def book(tmp_path: Path, credentials: Credentials | None = None, per_day: int = 100) -> TokenBook:
    return TokenBook(tmp_path / "textmark.sqlite", credentials or creds(), per_day)


def auth(tmp_path: Path, credentials: Credentials | None = None, **fields: str) -> str | None:
    credentials = credentials or creds()
    sign = signature(APP, md5_hex(IMAGE), SALT, SECRET)
    args = {"app_id": APP, "salt": SALT, "sign": sign, "token": "", "client_ip": "10.0.0.1"}
    args.update(fields)
    return authenticate(credentials, book(tmp_path, credentials), image_md5=md5_hex(IMAGE), **args)


def test_md5_and_signature_are_lowercase_hex_of_the_concatenation() -> None:
    assert md5_hex(b"") == "d41d8cd98f00b204e9800998ecf8427e"
    assert signature("a", "b", "c", "d") == md5_hex(b"abcd")


def test_auth_off_without_apps(tmp_path: Path) -> None:
    off = Credentials.from_settings(Settings())
    assert not off.enabled
    result = authenticate(
        off, book(tmp_path, off), app_id="", salt="", sign="", token="", image_md5=md5_hex(IMAGE),
        client_ip="1.2.3.4",
    )  # fmt: skip
    assert result is None


def test_right_signature_gives_the_app(tmp_path: Path) -> None:
    assert auth(tmp_path) == APP


def test_wrong_signature_is_401(tmp_path: Path) -> None:
    wrong = signature(APP, md5_hex(b"other image"), SALT, SECRET)
    with pytest.raises(TextmarkAuthError, match="x-access-api-sign: does not match") as e:
        auth(tmp_path, sign=wrong)
    assert e.value.status == 401


def test_signature_with_another_apps_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TextmarkAuthError, match="does not match"):
        auth(tmp_path, sign=signature(APP, md5_hex(IMAGE), SALT, "other-secret"))


@pytest.mark.parametrize("sign", ["", "xyz", "A" * 32, "0" * 31, "0" * 33, "g" * 32])
def test_malformed_signature_is_401(tmp_path: Path, sign: str) -> None:
    with pytest.raises(TextmarkAuthError, match="x-access-api-sign: expected 32") as e:
        auth(tmp_path, sign=sign)
    assert e.value.status == 401


@pytest.mark.parametrize("salt", ["", "01234567", "1234567", "123456789", "1234567a", " 1234567"])
def test_salt_must_be_8_digits_first_not_0(tmp_path: Path, salt: str) -> None:
    with pytest.raises(TextmarkAuthError, match="salt: expected 8 digits, the first not 0"):
        auth(tmp_path, salt=salt)


def test_salt_is_part_of_the_signature(tmp_path: Path) -> None:
    with pytest.raises(TextmarkAuthError, match="does not match"):
        auth(tmp_path, salt="87654321")


@pytest.mark.parametrize("app_id", ["short", APP + "x"])
def test_app_id_must_have_16_characters(tmp_path: Path, app_id: str) -> None:
    with pytest.raises(TextmarkAuthError, match="appId: expected 16 characters"):
        auth(tmp_path, app_id=app_id)


def test_unknown_app_id_is_401(tmp_path: Path) -> None:
    with pytest.raises(TextmarkAuthError, match="appId: unknown app") as e:
        auth(tmp_path, app_id="0000000000000000")
    assert e.value.status == 401


def test_no_credentials_at_all_is_401(tmp_path: Path) -> None:
    with pytest.raises(TextmarkAuthError, match="credentials required") as e:
        auth(tmp_path, app_id="", salt="", sign="")
    assert e.value.status == 401


def test_token_issue_and_check(tmp_path: Path) -> None:
    tokens = book(tmp_path)
    token, expires = tokens.issue(APP, SECRET, "10.0.0.1", now=T0)
    assert len(token) == 32 and token == token.lower()
    assert expires == T0 + 1800.0
    assert tokens.check(token, "10.0.0.1", now=T0 + 1) == APP


def test_tokens_are_stored_hashed(tmp_path: Path) -> None:
    tokens = book(tmp_path)
    token, _ = tokens.issue(APP, SECRET, "10.0.0.1", now=T0)
    raw = (tmp_path / "textmark.sqlite").read_bytes()
    assert token.encode() not in raw and SECRET.encode() not in raw
    assert token_id(token).encode() in raw


def test_token_is_shared_across_books_on_one_file(tmp_path: Path) -> None:
    token, _ = book(tmp_path).issue(APP, SECRET, "10.0.0.1", now=T0)
    assert book(tmp_path).check(token, "10.0.0.1", now=T0) == APP


def test_token_header_wins_over_a_bad_signature(tmp_path: Path) -> None:
    credentials = creds()
    tokens = book(tmp_path, credentials)
    token, _ = tokens.issue(OTHER, "other-secret", "10.0.0.1")  # now: authenticate has no clock
    result = authenticate(
        credentials, tokens, app_id=APP, salt="0", sign="bad", token=token,
        image_md5=md5_hex(IMAGE), client_ip="10.0.0.1",
    )  # fmt: skip
    assert result == OTHER


@pytest.mark.parametrize(
    ("app_id", "secret", "match"),
    [(APP, "wrong", "appSecret: does not match"), ("0000000000000000", SECRET, "appId: unknown")],
)
def test_token_issue_refuses_wrong_app_or_secret(
    tmp_path: Path, app_id: str, secret: str, match: str
) -> None:
    with pytest.raises(TextmarkAuthError, match=match) as e:
        book(tmp_path).issue(app_id, secret, "10.0.0.1", now=T0)
    assert e.value.status == 401


def test_no_tokens_when_auth_is_off(tmp_path: Path) -> None:
    off = Credentials.from_settings(Settings())
    with pytest.raises(TextmarkAuthError, match="auth is off"):
        book(tmp_path, off).issue(APP, SECRET, "10.0.0.1", now=T0)


def test_token_expires_after_ttl_plus_grace(tmp_path: Path) -> None:
    tokens = book(tmp_path)
    token, _ = tokens.issue(APP, SECRET, "10.0.0.1", now=T0)
    assert tokens.check(token, "10.0.0.1", now=T0 + 1800 + 300) == APP  # within grace
    with pytest.raises(TextmarkAuthError, match="x-access-api-token: expired") as e:
        tokens.check(token, "10.0.0.1", now=T0 + 1800 + 300.5)
    assert e.value.status == 401


@pytest.mark.parametrize(
    ("token", "match"),
    [("a" * 32, "unknown token"), ("short", "malformed"), ("A" * 32, "malformed"), ("", "malf")],
)
def test_unknown_or_malformed_token_is_401(tmp_path: Path, token: str, match: str) -> None:
    with pytest.raises(TextmarkAuthError, match=f"x-access-api-token: {match}") as e:
        book(tmp_path).check(token, "10.0.0.1", now=T0)
    assert e.value.status == 401


def test_token_of_an_app_no_longer_configured_is_refused(tmp_path: Path) -> None:
    token, _ = book(tmp_path).issue(OTHER, "other-secret", "10.0.0.1", now=T0)
    only_app = Credentials(apps={APP: SECRET}, ips={})
    with pytest.raises(TextmarkAuthError, match="unknown token"):
        book(tmp_path, only_app).check(token, "10.0.0.1", now=T0)


def test_daily_token_limit_per_app_and_utc_day(tmp_path: Path) -> None:
    tokens = book(tmp_path, per_day=2)
    day_start = 1_700_006_400.0  # 2023-11-15 00:00:00 UTC
    tokens.issue(APP, SECRET, "10.0.0.1", now=day_start + 10)
    tokens.issue(APP, SECRET, "10.0.0.1", now=day_start + 20)
    with pytest.raises(TextmarkAuthError, match="TEXTMARK_TOKENS_PER_DAY") as e:
        tokens.issue(APP, SECRET, "10.0.0.1", now=day_start + 30)
    assert e.value.status == 403
    tokens.issue(OTHER, "other-secret", "10.0.0.1", now=day_start + 40)  # per app
    tokens.issue(APP, SECRET, "10.0.0.1", now=day_start + 86400)  # next UTC day


IPS = ((APP, "192.168.1.7|10.1.0.0/16|2001:db8::/32"),)


@pytest.mark.parametrize("ip", ["192.168.1.7", "10.1.200.3", "2001:db8::5", "::ffff:10.1.0.9"])
def test_ip_allow_list_allows(tmp_path: Path, ip: str) -> None:
    credentials = creds(IPS)
    assert auth(tmp_path, credentials, client_ip=ip) == APP
    tokens = book(tmp_path, credentials)
    token, _ = tokens.issue(APP, SECRET, ip, now=T0)
    assert tokens.check(token, ip, now=T0) == APP


@pytest.mark.parametrize("ip", ["192.168.1.8", "10.2.0.1", "2001:db9::1", "", "not-an-ip"])
def test_ip_allow_list_refuses_with_403(tmp_path: Path, ip: str) -> None:
    credentials = creds(IPS)
    with pytest.raises(TextmarkAuthError, match="TEXTMARK_APP_IPS") as e:
        auth(tmp_path, credentials, client_ip=ip)
    assert e.value.status == 403
    with pytest.raises(TextmarkAuthError, match="not allowed") as e:
        book(tmp_path, credentials).issue(APP, SECRET, ip, now=T0)
    assert e.value.status == 403


def test_token_checked_from_another_ip_is_refused(tmp_path: Path) -> None:
    tokens = book(tmp_path, creds(IPS))
    token, _ = tokens.issue(APP, SECRET, "10.1.0.1", now=T0)
    with pytest.raises(TextmarkAuthError, match="not allowed") as e:
        tokens.check(token, "8.8.8.8", now=T0)
    assert e.value.status == 403


def test_apps_without_an_allow_list_accept_any_ip(tmp_path: Path) -> None:
    credentials = creds(IPS)
    token, _ = book(tmp_path, credentials).issue(OTHER, "other-secret", "8.8.8.8", now=T0)
    assert book(tmp_path, credentials).check(token, "8.8.8.8", now=T0) == OTHER


def test_credentials_parse_networks() -> None:
    credentials = creds(IPS)
    assert credentials.enabled
    assert credentials.apps == {APP: SECRET, OTHER: "other-secret"}
    assert [str(n) for n in credentials.ips[APP]] == [
        "192.168.1.7/32",
        "10.1.0.0/16",
        "2001:db8::/32",
    ]


@pytest.mark.parametrize(
    ("apps", "ips", "match"),
    [
        ((("short", "x"),), (), "TEXTMARK_APPS: appId 'short' has 5 characters"),
        (((APP, "x"), (APP, "y")), (), "TEXTMARK_APPS: appId .* twice"),
        (((APP, "x"),), ((OTHER, "10.0.0.1"),), "TEXTMARK_APP_IPS: appId .* not one of"),
        (((APP, "x"),), ((APP, "10.0.0.0/33"),), "TEXTMARK_APP_IPS: .* not an IP address"),
        (((APP, "x"),), ((APP, "10.0.0.1|nope"),), "TEXTMARK_APP_IPS: .*'nope'"),
    ],
)
def test_credentials_config_errors_name_the_variable(
    apps: tuple[tuple[str, str], ...], ips: tuple[tuple[str, str], ...], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        Credentials.from_settings(Settings(textmark_apps=apps, textmark_app_ips=ips))


def test_config_error_does_not_show_the_secret() -> None:
    with pytest.raises(ConfigError) as e:
        Credentials.from_settings(Settings(textmark_apps=(("short", "hush-hush"),)))
    assert "hush-hush" not in str(e.value)


def test_credentials_from_environment_variables(tmp_path: Path) -> None:
    env = {
        "TEXTMARK_APPS": f"{APP}:{SECRET},{OTHER}:x",
        "TEXTMARK_APP_IPS": f"{APP}:2001:db8::/32|10.0.0.0/8",
    }
    credentials = Credentials.from_settings(load_settings(env, config_dir=tmp_path))
    assert credentials.apps == {APP: SECRET, OTHER: "x"}
    assert [str(n) for n in credentials.ips[APP]] == ["2001:db8::/32", "10.0.0.0/8"]
