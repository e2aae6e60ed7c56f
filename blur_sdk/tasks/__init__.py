"""Asynchronous tasks on huey: records and results in a folder, SQLite or Redis queue storage."""

from blur_sdk.tasks.config import TaskConfig, task_config
from blur_sdk.tasks.output import Processor, TaskOutput
from blur_sdk.tasks.queue import TaskQueue
from blur_sdk.tasks.store import TaskNotFoundError, TaskRecord, TaskStore, TaskStoreError

__all__ = [
    "Processor",
    "TaskConfig",
    "TaskNotFoundError",
    "TaskOutput",
    "TaskQueue",
    "TaskRecord",
    "TaskStore",
    "TaskStoreError",
    "task_config",
]
