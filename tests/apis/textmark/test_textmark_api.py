"""The text-watermark API through the test client: blocks, keyword rules, rectangles, offset,
ocrOnly, show, the 304 cache, the envelope."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from flask.testing import FlaskClient
from PIL import Image

from blur_sdk.settings import Settings
from tests.apis.textmark.helpers import fake_engine, image_field, post, render, textmark_client

MARKS = [("SAMPLE PHOTO", (40, 40, 220, 30)), ("@studio_pics", (40, 76, 180, 24)),
         ("抖音号 12345678", (250, 250, 200, 30))]  # fmt: skip
KEYS = {"httpCode", "httpMsg", "returnType", "remainingUsage", "allUsedCount",
        "longTermUsageCount", "limitedTermUsageCount", "limitedTermExpireTimes", "data",
        "encryptedInfo"}  # fmt: skip


def _download(c: FlaskClient, url: str) -> np.ndarray:
    response = c.get("/" + url.split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 200
    return np.asarray(Image.open(io.BytesIO(response.data)).convert("RGB"))


def test_found_blocks_are_merged_removed_and_reported(settings: Settings) -> None:
    marked, clean = render(MARKS)
    with textmark_client(settings, fake_engine(MARKS)) as c:
        body = post(c, image_field(marked))
        assert set(body) == KEYS and body["returnType"] == "json"
        data = body["data"]
        assert data["processStatus"] == 0 and data["processCount"] == 2
        first, second = data["processLocation"]
        assert first["lineCount"] == 2 and first["word"] == "SAMPLE PHOTO @studio_pics"
        assert (first["x"], first["y"]) == (40, 40) and first["h"] == 60
        assert second == {"x": 250, "y": 250, "w": 200, "h": 30, "lineCount": 1,
                          "word": "抖音号 12345678"}  # fmt: skip
        assert body["encryptedInfo"]["imageUniqueIdentification"]
        out = _download(c, data["url"])
    text = np.abs(marked.astype(int) - clean).max(axis=2) > 30
    assert (
        np.abs(out[text].astype(int) - clean[text]).mean()
        < 0.5 * np.abs(marked[text].astype(int) - clean[text]).mean()
    )
    far = np.zeros(text.shape, bool)
    far[150:220, :] = True
    assert np.array_equal(out[far], marked[far])


def _words(body: dict[str, object]) -> list[str]:
    return [loc["word"] for loc in body["data"]["processLocation"]]  # type: ignore[index]


def test_watermark_names_and_exclude_keywords_select_blocks(settings: Settings) -> None:
    marks = [("SAMPLE", (20, 20, 120, 30)), ("抖音号 12345678", (20, 200, 200, 30)),
             ("PREVIEW ONLY", (260, 100, 180, 30))]  # fmt: skip
    marked, _ = render(marks)
    cases = [
        ({"watermarkNames": [{"value": "SAMPLF", "rule": "similar"}]}, ["SAMPLE"]),
        ({"watermarkNames": [{"value": "SAMPLF", "rule": "absolute"}]}, []),
        ({"watermarkNames": [{"value": "抖音号", "rule": "absolute"}]}, ["抖音号 12345678"]),
        ({"watermarkNames": [{"value": "preview", "rule": "nonsense"}]}, ["PREVIEW ONLY"]),
        ({"excludeKeywords": [{"value": "SAMPLE"}]}, ["PREVIEW ONLY", "抖音号 12345678"]),
        ({"exclude_keywords": [{"value": "12345678", "rule": "absolute"}]},
         ["SAMPLE", "PREVIEW ONLY"]),
    ]  # fmt: skip
    with textmark_client(settings, fake_engine(marks)) as c:
        for fields, expected in cases:
            form = {k: json.dumps(v) for k, v in fields.items()}
            body = post(c, {**image_field(marked), **form})
            if expected:
                assert sorted(_words(body)) == sorted(expected), (fields, body)
            else:
                assert body["data"]["processStatus"] == 52002, body


def test_rectangles_bypass_ocr_and_offsets_apply_or_are_ignored(settings: Settings) -> None:
    marked, _ = render(MARKS)
    rects = json.dumps([{"x": 10, "y": 10, "w": 50, "h": 20}, [100, 100, 30, 30]])
    with textmark_client(settings, fake_engine(MARKS)) as c:
        body = post(c, {**image_field(marked), "rectangles": rects,
                        "watermarkNames": json.dumps(["nothing matches this"])})  # fmt: skip
        locations = body["data"]["processLocation"]
        assert [(r["x"], r["y"], r["w"], r["h"]) for r in locations] == [
            (10, 10, 50, 20), (100, 100, 30, 30)]  # fmt: skip
        out = _download(c, body["data"]["url"])
        assert not np.array_equal(out[10:30, 10:60], marked[10:30, 10:60])
        bad = json.dumps([{"x": 460, "y": 10, "w": 50, "h": 20}])
        refused = post(c, {**image_field(marked), "rectangles": bad}, status=400)
        assert refused["data"]["processStatus"] == 52001 and "rectangles[0]" in str(refused)
        assert refused["location"] == "127.0.0.1" and refused["msgInnerReferer"]
        grow = json.dumps({"x": -5, "y": -5, "w": 10, "h": 10})
        moved = post(c, {**image_field(marked), "offset": grow})
        assert moved["data"]["processStatus"] == 0
        assert moved["data"]["processLocation"][0]["x"] == 35
        pushed = post(c, {**image_field(marked), "offset": json.dumps({"x": 300})})
        assert pushed["data"]["processStatus"] == 52005  # removal still happens
        assert pushed["data"]["url"]


def test_ocr_only_reports_without_changing_and_show_draws_green(settings: Settings) -> None:
    marked, _ = render(MARKS)
    with textmark_client(settings, fake_engine(MARKS)) as c:
        body = post(c, {**image_field(marked), "ocrOnly": "true"})
        assert body["data"]["processStatus"] == 52006 and body["data"]["url"] == ""
        assert body["data"]["processCount"] == 2
        shown = post(c, {**image_field(marked), "show": "true"})
        out = _download(c, shown["data"]["url"])
    x, y = shown["data"]["processLocation"][1]["x"], shown["data"]["processLocation"][1]["y"]
    assert tuple(out[y, x + 20]) == (0, 255, 0)


def test_a_repeat_within_retention_is_a_304_and_not_counted(settings: Settings) -> None:
    marked, _ = render(MARKS)
    with textmark_client(settings, fake_engine(MARKS)) as c:
        first = post(c, image_field(marked))
        again = post(c, image_field(marked))  # HTTP 200
        other = post(c, {**image_field(marked), "show": "true"})
    assert first["httpCode"] == 200 and again["httpCode"] == 304
    assert again["data"] == first["data"]
    assert again["allUsedCount"] == 1 and other["allUsedCount"] == 2
    assert other["httpCode"] == 200


def test_image_sources_and_formats(settings: Settings) -> None:
    marked, _ = render(MARKS)
    with textmark_client(settings, fake_engine(MARKS)) as c:
        gif = io.BytesIO()
        Image.fromarray(marked).save(gif, "GIF")
        import base64

        refused = post(c, {"image_base64": base64.b64encode(gif.getvalue()).decode()},
                       status=400)  # fmt: skip
        assert "only PNG, BMP and JPEG" in refused["data"]["processMsg"]
        bmp = io.BytesIO()
        Image.fromarray(marked).save(bmp, "BMP")
        file_wins = post(c, {"image_file": (io.BytesIO(bmp.getvalue()), "a.bmp"),
                             "image_base64": "@@@"})  # fmt: skip
        assert file_wins["data"]["processStatus"] == 0
        assert file_wins["data"]["url"].endswith(".png")
        assert post(c, {}, status=400)["data"]["processStatus"] == 52001
        big = post(c, image_field(marked), status=200)
        assert big["httpCode"] in (200, 304)
    with textmark_client(settings, fake_engine(MARKS), textmark_max_image_bytes=1000) as c:
        too_big = post(c, image_field(marked), status=413)
        assert too_big["httpCode"] == 413


def test_wrong_methods_are_405_in_the_envelope(settings: Settings) -> None:
    with textmark_client(settings) as c:
        response = c.put("/api/text-watermark/remove")
        assert response.status_code == 405
        assert response.get_json()["httpCode"] == 405
        assert c.get("/api/text-watermark/token").status_code == 405


def test_get_with_an_image_url_in_the_query_string(settings: Settings) -> None:
    from bench.synthetic import encode
    from tests.clients import serving

    marked, _ = render(MARKS)
    with (
        serving({"/marked.png": encode(marked, "PNG")}) as base,
        textmark_client(settings, fake_engine(MARKS), url_allow_private=True) as c,
    ):
        query = {"image_url": f"{base}/marked.png", "ocr_only": "true"}
        response = c.get("/api/text-watermark/remove", query_string=query)
        body = response.get_json()
        assert response.status_code == 200 and body["data"]["processStatus"] == 52006, body
        refused = c.get("/api/text-watermark/remove", query_string={"image_url": "ftp://x/y"})
        assert (
            refused.status_code == 400 and "image_url" in refused.get_json()["data"]["processMsg"]
        )


def test_result_images_are_finished_records_the_queue_sweeps(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept TEXTMARK_RETENTION, then deleted by the task queue's sweep with their record."""
    import time as clock

    marked, _ = render(MARKS)
    with textmark_client(settings, fake_engine(MARKS), textmark_retention=60.0) as c:
        body = post(c, image_field(marked))
        name = body["data"]["url"].rsplit("/", 1)[1]
        tasks = c.application.extensions["blur_sdk.tasks"]
        results = next(s for s in tasks._extra_stores if s.result_path(name) is not None)
        (record,) = [r for r in (results.get(p.name) for p in results.tasks_dir.iterdir())]
        assert record.finished and not results.unfinished()
        assert tasks.sweep() == 0  # fresh: kept
        later = clock.time() + 61
        monkeypatch.setattr(clock, "time", lambda: later)
        assert tasks.sweep() == 2  # the record and its image, from the API's own store
        assert c.get("/results/" + name).status_code == 404
