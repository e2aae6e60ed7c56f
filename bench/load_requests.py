"""The load test's requests: valid and invalid ones for each API (judged by load_answers.py)."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import random
import struct
from typing import Any

import cv2
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
    "textmark": "/api/text-watermark/remove",
}
KAZE_RESULT = "/api/ext/v1/get_task_result"
SERVER_OF = {"snapshot": "snapshot"}  # the others are served by the Blur server
APIS = tuple(PATHS)  # (also the app factory's names for them)
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


def _watermarkly(images: dict[int, bytes]) -> list[Template]:
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
    for size, (image, smear) in _marked_scenes(rng).items():
        body = {"image_base64": _b64(image)}
        valid.append(_json(f"valid-{size}", body, True))
        valid.append(_json(f"valid-{size}-smear", {**body, "smear_base64": _b64(smear)}, True))
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


def _marked_scenes(rng: random.Random) -> dict[int, tuple[bytes, bytes]]:
    """A watermarked scene ("SAMPLE") as PNG, with its smear (the truth mask), per size."""
    out = {}
    for size in SIZES[:2]:
        scene = cv2.resize(scene_with_plate(), (size, size), interpolation=cv2.INTER_AREA)
        marked, truth, _ = add_text(scene, rng, text="SAMPLE", px=size // 10, angle=0.0)
        out[size] = encode(marked, "PNG"), encode(cv2.cvtColor(truth, cv2.COLOR_GRAY2RGB), "PNG")
    return out


def _textmark(rng: random.Random) -> list[Template]:
    """Text-watermark removals (auth off: no signature) and refused ones."""
    named = json.dumps([{"value": "SAMPLE", "rule": "similar"}])
    valid = []
    for size, (image, _) in _marked_scenes(rng).items():
        upload = ("marked.png", image, "image/png")
        for name, extra in (
            ("", {}),
            ("-named", {"watermarkNames": named}),
            ("-ocr-only", {"ocrOnly": "true"}),
            ("-rectangles", {"rectangles": "[[10, 10, 60, 20]]"}),
        ):
            fields = {"image_file": upload, **extra}
            valid.append(Template(f"valid-{size}{name}", *encode_multipart_formdata(fields), True))
    tiny = encode(cv2.resize(scene_with_plate(), (64, 48)), "PNG")
    bad: list[tuple[str, dict[str, Any]]] = [
        ("no-image", {"ocrOnly": "true"}),
        ("not-an-image", {"image_file": ("a.png", b"hello, not an image" * 10)}),
        ("truncated", {"image_file": ("a.png", tiny[: len(tiny) // 3])}),
        ("bomb-30000px", {"image_file": ("bomb.gif", BOMB)}),
        (
            "both-lists",
            {"image_file": ("a.png", tiny), "watermarkNames": named, "excludeKeywords": named},
        ),
        ("rectangle-outside", {"image_file": ("a.png", tiny), "rectangles": "[[60, 40, 50, 50]]"}),
        ("rectangles-json", {"image_file": ("a.png", tiny), "rectangles": "[[1, 2"}),
        ("sync-no-callback", {"image_file": ("a.png", tiny), "sync": "true"}),
        ("url-loopback", {"image_url": "http://127.0.0.1:1/x.png"}),
    ]
    return valid + [Template(name, *encode_multipart_formdata(f), False) for name, f in bad]


def templates(api: str, oversize_bytes: int, rng: random.Random) -> list[Template]:
    """Valid and invalid requests for one API, oversize bodies (also chunked) among them."""
    images = scenes()
    if api in ("blur", "snapshot"):
        pool = _multipart(api, images, rng)
        big, ctype = encode_multipart_formdata({"upload": ("big.jpg", os.urandom(oversize_bytes))})
    elif api == "textmark":
        pool = _textmark(rng)
        fields = {"image_file": ("big.png", os.urandom(oversize_bytes))}
        big, ctype = encode_multipart_formdata(fields)
    elif api == "watermarkly":
        pool, big, ctype = _watermarkly(images), os.urandom(oversize_bytes), OCTET
    elif api == "faceblurest":
        pool, ctype = _faceblurest(images), JSON
        big = json.dumps({"base64_Photo_String": _b64(os.urandom(oversize_bytes))}).encode()
    else:
        pool, ctype = _kaze(rng), JSON
        big = json.dumps({"image_base64": _b64(os.urandom(oversize_bytes))}).encode()
    pool.append(Template("oversize", big, ctype, False, close=True))
    pool.append(Template("oversize-chunked", big, ctype, False, close=True, chunked=True))
    return pool
