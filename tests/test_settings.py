"""Tests for blur_sdk.settings: defaults, YAML files, env overrides, and invalid values."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from blur_sdk import PROJECT_ROOT
from blur_sdk.errors import ConfigError
from blur_sdk.settings import Settings, describe_settings, load_settings


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    return folder


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(env={}, config_dir=tmp_path / "missing")
    assert settings == Settings()
    assert settings.faces == 0 and settings.plates == 0
    assert settings.shape == "ellipse"
    assert settings.skip_regexp == () and settings.config == {}
    assert settings.sdk_url == ""
    assert settings.copy_metadata is False
    assert settings.plate_detectors == ("ocr", "platedet")
    assert settings.ov_precision == "auto"
    assert settings.models_dir == PROJECT_ROOT / "models"


def test_repo_config_folder_loads() -> None:
    load_settings(env={})  # config/ holds models.yaml (skipped) and no settings errors


def test_env_values_are_parsed(tmp_path: Path) -> None:
    env = {
        "FACES": " 5 ",
        "PLATES": "-1",
        "SHAPE": "Circle",
        "SKIP_REGEXP": '["^AB", "^CD"]',
        "CONFIG": '{"mode": "fast"}',
        "SDK_URL": "http://snapshot:8080/",
        "COPY_METADATA": "yes",
        "FACE_THRESHOLD": "0.5",
        "MODELS_DIR": "rel/models",
        "API_KEYS": "k1,,k2 ",
    }
    settings = load_settings(env=env, config_dir=tmp_path / "missing")
    assert settings.faces == 5 and settings.plates == -1
    assert settings.shape == "circle"
    assert settings.skip_regexp == ("^AB", "^CD")
    assert settings.config == {"mode": "fast"}
    assert settings.sdk_url == "http://snapshot:8080"
    assert settings.copy_metadata is True
    assert settings.face_threshold == 0.5
    assert settings.models_dir == PROJECT_ROOT / "rel" / "models"
    assert settings.api_keys == ("k1", "k2")


def test_yaml_in_config_dir(config_dir: Path) -> None:
    (config_dir / "blur.yaml").write_text(
        "faces: 3\nshape: square\nskip_regexp: ['^A{1,2}B', '^CD']\nconfig: {region: de}\n"
        "copy_metadata: true\n"
    )
    (config_dir / "models.yaml").write_text("models: {not: settings}\n")  # skipped
    settings = load_settings(env={}, config_dir=config_dir)
    assert settings.faces == 3
    assert settings.shape == "square"
    assert settings.skip_regexp == ("^A{1,2}B", "^CD")  # a YAML list keeps commas in patterns
    assert settings.config == {"region": "de"}
    assert settings.copy_metadata is True


def test_yaml_settings_section_and_upper_case_keys(config_dir: Path) -> None:
    (config_dir / "a.yaml").write_text("settings:\n  PLATES: 4\n")
    assert load_settings(env={}, config_dir=config_dir).plates == 4


def test_env_overrides_yaml(config_dir: Path) -> None:
    (config_dir / "blur.yaml").write_text("faces: 3\nplates: 2\n")
    settings = load_settings(env={"FACES": "7"}, config_dir=config_dir)
    assert settings.faces == 7
    assert settings.plates == 2


def test_config_dir_from_env(config_dir: Path) -> None:
    (config_dir / "blur.yaml").write_text("faces: 9\n")
    assert load_settings(env={"CONFIG_DIR": str(config_dir)}).faces == 9


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FACES", "11"),
        ("FACES", "x"),
        ("PLATES", "-2"),
        ("SHAPE", "hexagon"),
        ("SKIP_REGEXP", "("),
        ("CONFIG", "[1]"),
        ("CONFIG", "{bad"),
        ("SDK_URL", "ftp://x"),
        ("COPY_METADATA", "maybe"),
        ("FACE_THRESHOLD", "2"),
        ("OV_PRECISION", "int4"),
        ("PLATE_DETECTORS", "yolo"),
        ("PLATE_MIN_RESOLUTION", "100"),
    ],
)
def test_invalid_env_value_names_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings(env={name: value}, config_dir=tmp_path / "missing")


def test_invalid_yaml_value_names_file_and_key(config_dir: Path) -> None:
    (config_dir / "blur.yaml").write_text("faces: 11\n")
    with pytest.raises(ConfigError, match=r"blur\.yaml:faces"):
        load_settings(env={}, config_dir=config_dir)


def test_unknown_yaml_key(config_dir: Path) -> None:
    (config_dir / "blur.yaml").write_text("faces: 1\nfaces_blur_typo: 2\n")
    with pytest.raises(ConfigError, match="faces_blur_typo"):
        load_settings(env={}, config_dir=config_dir)


@pytest.mark.parametrize("text", ["faces: [1\n", "- just\n- a list\n", "settings: 3\n"])
def test_invalid_yaml_names_the_file(config_dir: Path, text: str) -> None:
    (config_dir / "broken.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"broken\.yaml"):
        load_settings(env={}, config_dir=config_dir)


def test_face_resolutions_must_be_ordered(tmp_path: Path) -> None:
    env = {"FACE_MIN_RESOLUTION": "2000", "FACE_MAX_RESOLUTION": "1000"}
    with pytest.raises(ConfigError, match="FACE_MIN_RESOLUTION"):
        load_settings(env=env, config_dir=tmp_path / "missing")


def test_describe_settings_lists_every_field() -> None:
    rows = describe_settings()
    assert [r[0] for r in rows] == [f.name.upper() for f in dataclasses.fields(Settings)]
    assert all(doc for _, _, doc in rows)


def test_skip_regexp_env_is_one_regex_or_a_json_list(tmp_path: Path) -> None:
    one = load_settings(env={"SKIP_REGEXP": r"^[A-Z]{2,3}\d+$"}, config_dir=tmp_path)
    assert one.skip_regexp == (r"^[A-Z]{2,3}\d+$",)
    many = load_settings(env={"SKIP_REGEXP": '["^AB", "\\\\d{2,3}$"]'}, config_dir=tmp_path)
    assert many.skip_regexp == ("^AB", r"\d{2,3}$")
