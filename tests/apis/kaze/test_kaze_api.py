"""Kaze's API through the test client: submit, poll, download; with a smear and automatic."""

from __future__ import annotations

import numpy as np

from blur_sdk.settings import Settings
from tests.apis.kaze.helpers import (
    MAGENTA,
    QUOTA,
    b64,
    bearer,
    call,
    clean_image,
    download,
    kaze_client,
    marked_image,
    poll,
    smear_of,
    submit,
    watermark_mask,
)


def _error(image: np.ndarray, clean: np.ndarray, mask: np.ndarray) -> float:
    inside = mask > 0
    return float(np.abs(image[inside].astype(int) - clean[inside].astype(int)).mean())


def test_smear_mask_removal_restores_the_masked_pixels_and_keeps_the_rest(
    settings: Settings,
) -> None:
    clean = clean_image()
    mask = watermark_mask(clean.shape[:2])
    marked = marked_image(clean, mask)
    with kaze_client(settings) as c:
        task_id = submit(c, image_base64=b64(marked), smear_base64=b64(smear_of(mask)))
        data = poll(c, task_id)
        assert data["status"] == "success", data
        assert data["images"][0]["url"].startswith("http://localhost/results/")
        response, out = download(c, data["images"][0]["url"])
    assert response.mimetype == "image/png"
    assert np.array_equal(out[mask == 0], marked[mask == 0])  # nothing else touched
    before, after = _error(marked, clean, mask), _error(out, clean, mask)
    assert after < before / 3, (before, after)


def test_automatic_removal_finds_the_watermark(settings: Settings) -> None:
    clean = clean_image()
    mask = watermark_mask(clean.shape[:2])
    marked = marked_image(clean, mask, MAGENTA, alpha=1.0)  # the fake finder's watermark
    with kaze_client(settings) as c:
        data = poll(c, submit(c, image_base64=b64(marked)))
        _, out = download(c, data["images"][0]["url"])
    assert not np.all(out == np.array(MAGENTA), axis=2).any()
    assert np.array_equal(out[mask == 0], marked[mask == 0])


def test_nothing_found_returns_the_image_as_it_came(settings: Settings) -> None:
    clean = clean_image()
    with kaze_client(settings) as c:
        data = poll(c, submit(c, image_base64=b64(clean, "JPEG")))
        response, _ = download(c, data["images"][0]["url"])
    assert response.mimetype == "image/jpeg"
    import base64

    assert response.data == base64.b64decode(b64(clean, "JPEG"))


def test_result_urls_use_public_url_and_need_no_credentials(settings: Settings) -> None:
    clean = clean_image()
    keys = ("k1",)
    with kaze_client(settings, api_keys=keys, public_url="https://blur.example:8443") as c:
        data = poll(c, submit(c, bearer("k1"), image_base64=b64(clean)), bearer("k1"))
        url = data["images"][0]["url"]
        assert url.startswith("https://blur.example:8443/results/")
        download(c, url)  # no Authorization header
        assert c.get("/results/nope.png").status_code == 404


def test_quota_is_counted_per_key_and_reported(settings: Settings) -> None:
    clean = clean_image(64, 48)
    with kaze_client(settings, api_keys=("a", "b"), kaze_quotas=(("a", 1),)) as c:
        submit(c, bearer("a"), image_base64=b64(clean))
        answer = call(c, "/api/ext/v1/submit_watermark_removal",
                      {"image_base64": b64(clean)}, bearer("a"))  # fmt: skip
        assert answer["code"] == 1003, answer
        assert call(c, QUOTA, {}, bearer("a"))["data"] == {"total": 1, "used": 1, "remaining": 0}
        submit(c, bearer("b"), image_base64=b64(clean))  # unlimited
        report = call(c, QUOTA, {}, bearer("b"))["data"]
        assert report == {"total": None, "used": 1, "remaining": None}
