"""Whether an answer is the one an API's contract gives a valid or an invalid request.

Each API is judged by its own vendor's contract: Blur and Snapshot answer a refusal with a 4xx
and {"error": "..."}, Watermarkly with a 4xx and {"message": "..."}, FaceBlurest with
[{"cd", "description"}] (HTTP 200, as their sample client expects), Kaze with HTTP 200 and a
non-zero "code" beside a "message", the text-watermark API with its envelope (HTTP status =
httpCode, processStatus 52001). A valid request must get the API's success answer.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import requests

OK_STATUS = {"blur": 200, "snapshot": 201}
TEXTMARK_DONE = (0, 52002, 52006)  # removed; no watermark found; ocrOnly
TEXTMARK_REFUSED = 52001  # not processed (validation or auth failed)


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
            and bool(body)
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
    if api == "textmark":
        data = body.get("data") if isinstance(body, dict) else None
        return (
            400 <= status < 500
            and isinstance(data, dict)  # (so body is one too)
            and body.get("httpCode") == status
            and data.get("processStatus") == TEXTMARK_REFUSED
            and isinstance(body.get("msgInnerReferer"), str)
        )
    key = "message" if api == "watermarkly" else "error"
    return 400 <= status < 500 and isinstance(body, dict) and isinstance(body.get(key), str)


def kaze_task_id(answer: Answer) -> str | None:
    """The task id of an accepted Kaze submission, None when it was not accepted."""
    body = answer.json()
    if answer.status != 200 or not isinstance(body, dict) or body.get("code") != 0:
        return None
    data = body.get("data")
    task = data.get("task_id") if isinstance(data, dict) else None
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
    if api == "textmark":
        body = answer.json()
        data = body.get("data") if isinstance(body, dict) else None
        return (
            answer.status == 200
            and isinstance(data, dict)  # (so body is one too)
            and body.get("httpCode") in (200, 304)
            and data.get("processStatus") in TEXTMARK_DONE
        )
    return kaze_task_id(answer) is not None
