"""The load test's requests: valid and invalid ones per API, and whether an answer is right.

Each API is checked against its own vendor's contract: Blur and Snapshot answer a refusal with
a 4xx and {"error": "..."}, Watermarkly with a 4xx and {"message": "..."}, FaceBlurest with
[{"cd", "description"}] (HTTP 200, as their sample client expects), Kaze with HTTP 200 and a
non-zero "code" beside a "message". A valid request must get the API's success answer.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import random
import struct
from typing import Any

import cv2
import requests
from urllib3 import encode_multipart_formdata

from bench.synthetic import encode, scene_with_plate
from bench.watermark_synth import add_text

SIZES = (320, 512, 1024)
PATHS = {  # each API's path on its server (Kaze: where tasks are submitted)
    "blur": "/v1/blur",
    "snapshot": "/v1/plate-reader/",
    "watermarkly": "/blur/",
    "faceblurest": "/faceblurest.aspx",
    "kaze": "/api/ext/v1/submit_watermark_removal",
}
KAZE_RESULT = "/api/ext/v1/get_task_result"
SERVER_OF = {"snapshot": "snapshot"}  # the others are served by the Blur server
APIS_SERVED = ("blur", "snapshot", "watermarkly", "faceblurest", "kaze")  # (app factory names)
OK_STATUS = {"blur": 200, "snapshot": 201}
BOMB = b"GIF89a" + struct.pack("<HHBBB", 30000, 30000, 0, 0, 0) + b",\0\0\0\0"
BOMB += struct.pack("<HHB", 30000, 30000, 0) + b"\x02\x02\x4c\x01\x00;"  # 30000x30000 px
JSON = "application/json"
OCTET = "application/octet-stream"


@dataclasses.dataclass(frozen=True)
class Template:
    """One prepared request: body bytes, headers, and whether it is valid."""

    name: str
    body: bytes
    content_type: str
    valid: bool
    close: bool = False  # send `Connection: close` (bodies the server will not read)
    chunked: bool = False  # Transfer-Encoding: chunked, no Content-Length
    query: str = ""  # appended to the API's path


def scenes() -> dict[int, bytes]:
    """The synthetic scene (face + plate) as JPEG at each size of SIZES."""
    scene = scene_with_plate()
    out = {}
    for size in SIZES:
        resized = cv2.resize(scene, (size, size), interpolation=cv2.INTER_AREA)
        out[size] = encode(resized, "JPEG", quality=90)
    return out


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _json(name: str, body: Any, valid: bool) -> Template:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Template(name, raw, JSON, valid)


def _multipart(api: str, images: dict[int, bytes], rng: random.Random) -> list[Template]:
    """Blur's and Snapshot's valid requests and the refusals both share."""
    valid = []
    for size, data in images.items():
        for _ in range(4):
            fields: dict[str, Any] = {"upload": (f"scene{size}.jpg", data, "image/jpeg")}
            if api == "blur":
                fields["faces"] = str(rng.choice([-1, 0, 3, 10]))
                fields["plates"] = str(rng.choice([-1, 0, 5, 10]))
            else:
                fields["regions"] = rng.choice(["gb", "us-ca", "fr,de"])
            valid.append(Template(f"valid-{size}", *encode_multipart_formdata(fields), True))
    small = images[SIZES[0]]
    bad: list[tuple[str, dict[str, Any]]] = [
        ("not-an-image", {"upload": ("a.jpg", b"hello, not an image" * 10)}),
        ("truncated", {"upload": ("a.jpg", small[: len(small) // 3])}),
        ("bomb-30000px", {"upload": ("bomb.gif", BOMB)}),
        ("no-upload", {"camera_id": "x"}),
        ("deep-json", {"upload": ("a.jpg", small), "config": "[" * 5000 + "]" * 5000}),
        ("bad-regex", {"upload": ("a.jpg", small), "config": '{"text_formats": ["(a|aa)+"]}'}),
    ]
    if api == "blur":
        bad += [
            ("faces-nan", {"upload": ("a.jpg", small), "faces": "nan"}),
            ("skip-regexp", {"upload": ("a.jpg", small), "skip_regexp": "(a+)+$"}),
            ("logo-traversal", {"upload": ("a.jpg", small), "logo": "../../etc/passwd"}),
        ]
    else:
        bad += [
            ("timestamp", {"upload": ("a.jpg", small), "timestamp": "yesterday"}),
            ("regions", {"upload": ("a.jpg", small), "regions": "../x"}),
        ]
    return valid + [Template(name, *encode_multipart_formdata(f), False) for name, f in bad]


def _watermarkly(images: dict[int, bytes], rng: random.Random) -> list[Template]:
    valid = [
        Template(f"valid-{size}", data, OCTET, True, query=query)
        for size, data in images.items()
        for query in ("", "?blur_intensity=5", "?width=256&format=png", "?format=webp")
    ]
    small = images[SIZES[0]]
    bad = [
        ("not-an-image", b"hello, not an image" * 10, ""),
        ("truncated", small[: len(small) // 3], ""),
        ("bomb-30000px", BOMB, ""),
        ("empty", b"", ""),
        ("intensity-99", small, "?blur_intensity=99"),
        ("intensity-nan", small, "?blur_intensity=nan"),
        ("format-bmpx", small, "?format=bmpx"),
        ("width-negative", small, "?width=-5"),
        ("url-loopback", b"", "?url=http://127.0.0.1:1/car.jpg"),
    ]
    return valid + [Template(n, body, OCTET, False, query=q) for n, body, q in bad]


def _faceblurest(images: dict[int, bytes]) -> list[Template]:
    valid = [
        _json(f"valid-{size}", {"base64_Photo_String": _b64(data), "photo_url": "NO"}, True)
        for size, data in images.items()
    ]
    small = images[SIZES[0]]
    bad = [
        ("bad-json", b'{"base64_Photo_String": '),
        ("no-source", {"photo_url": "NO"}),
        ("both-sources", {"base64_Photo_String": _b64(small), "photo_url": "http://x/y.jpg"}),
        ("bad-base64", {"base64_Photo_String": "@@not base64@@", "photo_url": "NO"}),
        ("not-an-image", {"base64_Photo_String": _b64(b"hello" * 20), "photo_url": "NO"}),
        ("bomb-30000px", {"base64_Photo_String": _b64(BOMB), "photo_url": "NO"}),
        ("url-loopback", {"photo_url": "http://127.0.0.1:1/car.jpg"}),
    ]
    return valid + [_json(name, body, False) for name, body in bad]


def _kaze(rng: random.Random) -> list[Template]:
    """Submissions: watermarked scenes (half with their smear), and refused ones."""
    valid = []
    for size in SIZES[:2]:
        scene = cv2.resize(scene_with_plate(), (size, size), interpolation=cv2.INTER_AREA)
        marked, truth, _ = add_text(scene, rng, text="SAMPLE", px=size // 10, angle=0.0)
        image = _b64(encode(marked, "PNG"))
        smear = _b64(encode(cv2.cvtColor(truth, cv2.COLOR_GRAY2RGB), "PNG"))
        valid.append(_json(f"valid-{size}", {"image_base64": image}, True))
        valid.append(
            _json(f"valid-{size}-smear", {"image_base64": image, "smear_base64": smear}, True)
        )
    tiny = _b64(encode(cv2.resize(scene_with_plate(), (64, 48)), "PNG"))
    bad = [
        ("no-image", {}),
        ("bad-base64", {"image_base64": "@@not base64@@"}),
        ("both-sources", {"image_base64": tiny, "image_url": "http://x/y.png"}),
        ("not-an-image", {"image_base64": _b64(b"hello" * 20)}),
        (
            "smear-size",
            {"image_base64": tiny, "smear_base64": _b64(encode(scene_with_plate(), "PNG"))},
        ),
        ("url-loopback", {"image_url": "http://127.0.0.1:1/x.png"}),
    ]
    return valid + [_json(name, body, False) for name, body in bad]


def templates(api: str, oversize_bytes: int, rng: random.Random) -> list[Template]:
    """Valid and invalid requests for one API, oversize bodies (also chunked) among them."""
    images = scenes()
    if api in ("blur", "snapshot"):
        pool = _multipart(api, images, rng)
        big, ctype = encode_multipart_formdata({"upload": ("big.jpg", os.urandom(oversize_bytes))})
    elif api == "watermarkly":
        pool, big, ctype = _watermarkly(images, rng), os.urandom(oversize_bytes), OCTET
    elif api == "faceblurest":
        pool, ctype = _faceblurest(images), JSON
        big = json.dumps({"base64_Photo_String": _b64(os.urandom(oversize_bytes))}).encode()
    else:
        pool, ctype = _kaze(rng), JSON
        big = json.dumps({"image_base64": _b64(os.urandom(oversize_bytes))}).encode()
    pool.append(Template("oversize", big, ctype, False, close=True))
    pool.append(Template("oversize-chunked", big, ctype, False, close=True, chunked=True))
    return pool


@dataclasses.dataclass(frozen=True)
class Answer:
    """What an answer is judged by (from a requests or a Flask test response)."""

    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        """The body as JSON, None where it is none."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @classmethod
    def of(cls, response: requests.Response) -> Answer:
        """A requests response's answer."""
        return cls(response.status_code, response.headers.get("Content-Type", ""), response.content)


def refused_right(api: str, answer: Answer) -> bool:
    """Whether a refusal is in the API's own error envelope."""
    body = answer.json()
    status = answer.status
    if api == "faceblurest":
        return (
            (status == 200 or 400 <= status < 500)
            and isinstance(body, list)
            and all(
                isinstance(e, dict) and isinstance(e.get("cd"), str) and e.get("description")
                for e in body
            )
        )
    if api == "kaze":
        return (
            status == 200
            and isinstance(body, dict)
            and body.get("code") not in (None, 0)
            and isinstance(body.get("message"), str)
        )
    key = "message" if api == "watermarkly" else "error"
    return 400 <= status < 500 and isinstance(body, dict) and isinstance(body.get(key), str)


def kaze_task_id(answer: Answer) -> str | None:
    """The task id of an accepted Kaze submission, None when it was not accepted."""
    body = answer.json()
    if answer.status != 200 or not isinstance(body, dict) or body.get("code") != 0:
        return None
    task = (body.get("data") or {}).get("task_id")
    return task if isinstance(task, str) and task else None


def answered_right(api: str, valid: bool, answer: Answer) -> bool:
    """Whether the answer is the one this API's contract gives a (in)valid request."""
    if not valid:
        return refused_right(api, answer)
    if api in OK_STATUS:
        return answer.status == OK_STATUS[api]
    if api == "watermarkly":
        return answer.status == 200 and answer.content_type.startswith("image/")
    if api == "faceblurest":
        body = answer.json()
        return answer.status == 200 and isinstance(body, dict) and "predictions" in body
    return kaze_task_id(answer) is not None
