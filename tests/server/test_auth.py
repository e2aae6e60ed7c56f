"""Tests for blur_sdk.server.auth (API-key access control)."""

from __future__ import annotations

import dataclasses
import hmac
from pathlib import Path
from typing import Any

import pytest

from blur_sdk.errors import BlurSdkError
from blur_sdk.server.auth import AuthForbiddenError, AuthRequiredError, check_authorization
from blur_sdk.settings import Settings, load_settings


def _settings(tmp_path: Path, *keys: str) -> Settings:
    return dataclasses.replace(load_settings(env={}, config_dir=tmp_path), api_keys=keys)


def test_auth_off_by_default(tmp_path: Path) -> None:
    settings = load_settings(env={}, config_dir=tmp_path)
    assert settings.api_keys == ()
    check_authorization(None, settings)
    check_authorization("garbage", settings)


def test_keys_from_env(tmp_path: Path) -> None:
    settings = load_settings(env={"API_KEYS": "k1, k2"}, config_dir=tmp_path)
    check_authorization("Token k2", settings)
    with pytest.raises(AuthForbiddenError):
        check_authorization("Token k3", settings)


@pytest.mark.parametrize(
    "header", ["Token secret", "token secret", "Bearer secret", "BEARER  secret ", "Token other"]
)
def test_valid_keys_accepted(header: str, tmp_path: Path) -> None:
    check_authorization(header, _settings(tmp_path, "secret", "other"))


@pytest.mark.parametrize(
    "header", [None, "", "   ", "secret", "Token", "Basic c2VjcmV0", "Token secret extra"]
)
def test_missing_or_malformed_is_401(header: str | None, tmp_path: Path) -> None:
    with pytest.raises(AuthRequiredError) as info:
        check_authorization(header, _settings(tmp_path, "secret"))
    assert info.value.status_code == 401
    assert "secret" not in str(info.value).replace("'Token <key>'", "")


@pytest.mark.parametrize("header", ["Token wrong", "Bearer secre", "Token secret2", "Token ключ"])
def test_wrong_key_is_403(header: str, tmp_path: Path) -> None:
    with pytest.raises(AuthForbiddenError) as info:
        check_authorization(header, _settings(tmp_path, "secret"))
    assert info.value.status_code == 403
    assert "wrong" not in str(info.value)


def test_errors_are_project_errors() -> None:
    assert issubclass(AuthRequiredError, BlurSdkError)
    assert issubclass(AuthForbiddenError, BlurSdkError)
    assert not issubclass(AuthForbiddenError, AuthRequiredError)


def test_compares_against_every_key_in_constant_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    check_authorization("Token k1", _settings(tmp_path, "k1", "k2", "k3"))
    assert len(calls) == 3  # no early exit on the first match
    assert all(len(a) == len(b) for a, b in calls)
