"""The work behind an answer, in the request (sync=false) or in a task (sync=true): process,
store the cleaned image (kept TEXTMARK_RETENTION), cache the answer (the route counts the use)."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

from blur_sdk.apis.textmark import answer
from blur_sdk.apis.textmark.auth import Credentials
from blur_sdk.apis.textmark.cache import AnswerCache
from blur_sdk.apis.textmark.callback import deliver
from blur_sdk.apis.textmark.limits import UsageBook
from blur_sdk.apis.textmark.process import process
from blur_sdk.apis.textmark.request import Params
from blur_sdk.core.watermark.removal import WatermarkSource
from blur_sdk.errors import BlurSdkError, ProcessingTimeoutError
from blur_sdk.options import image_limits
from blur_sdk.server.errors import status_of
from blur_sdk.server.results import result_url
from blur_sdk.settings import Settings
from blur_sdk.tasks.queue import Processor, TaskOutput
from blur_sdk.tasks.store import TaskRecord, TaskStore

KIND = "textmark.remove"
RESULT_KIND = "textmark.result"


@dataclass(frozen=True)
class Work:
    """What processing one request needs, shared by the routes and the task processor."""

    finder: WatermarkSource | None
    settings: Settings
    results: TaskStore
    cache: AnswerCache
    usage: UsageBook
    credentials: Credentials

    def store(self, image: bytes, ext: str) -> str:
        """Keep the cleaned image (the task queue's sweep deletes it after its retention)."""
        record = self.results.create(RESULT_KIND, {}, {})
        record = self.results.write_result(record, image, ext)
        record = dataclasses.replace(record, status="success", finished_at=time.time())
        self.results.save(record)  # finished: swept with its result after the retention
        return record.result_name

    def run(self, data: bytes, params: Params, *, app_id: str, md5: str, key: str,
            host_url: str) -> dict[str, Any]:  # fmt: skip
        """The answer to one request (raises the project's errors for refusals)."""
        settings = self.settings
        outcome = process(
            self.finder,
            data,
            params,
            limits=image_limits(settings),
            method=settings.inpaint_method,
            timeout=settings.request_timeout,
            jpeg_quality=settings.jpeg_quality,
        )
        url = ""
        if outcome.image is not None:
            url = result_url(self.store(outcome.image, outcome.ext), settings.public_url, host_url)
        body = answer.envelope(
            200,
            outcome.status,
            usage=self.usage.report(app_id),
            locations=outcome.locations,
            url=url,
            image_md5=md5,
            secret=self.credentials.apps.get(app_id, ""),
        )
        self.cache.put(key, body)
        return body


def make_processor(work: Work) -> Processor:
    """The processor of sync=true tasks: the answer (or the refusal) POSTed to the callback."""

    def process_task(record: TaskRecord, store: TaskStore) -> TaskOutput:
        job = record.params
        params = Params.from_json(job["params"])
        try:
            body = work.run(
                store.input(record.id, "image"),
                params,
                app_id=job["app_id"],
                md5=job["md5"],
                key=job["key"],
                host_url=job["host_url"],
            )  # fmt: skip  (counted when accepted)
        except BlurSdkError as e:
            status = status_of(e)
            timed_out = isinstance(e, ProcessingTimeoutError)
            body = answer.failure(status, str(e), "", usage=work.usage.report(job["app_id"]),
                                  image_md5=job["md5"], timed_out=timed_out)  # fmt: skip
        delivered = deliver(params.callback, body, work.settings)
        status = body["data"]["processStatus"]
        return TaskOutput(b"", "json", {"delivered": delivered, "processStatus": status})

    return process_task
