"""One helper runs long work off the UI thread and delivers the result on the main thread.

Services take a Qt-free ``progress`` object (``report(fraction, text)``, ``cancelled()``); this
module adapts it to signals. Tests swap ``Runner`` for ``SyncRunner`` to run work inline.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

logger = logging.getLogger(__name__)


class Progress:
    """The Qt-free progress protocol given to services (thread-safe)."""

    def __init__(self, on_report: Callable[[float, str], None] | None = None) -> None:
        self._cancel = threading.Event()
        self._on_report = on_report

    def report(self, fraction: float, text: str) -> None:
        if self._on_report is not None:
            self._on_report(max(0.0, min(1.0, fraction)), text)

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()


class _Signals(QObject):
    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[Progress], Any], signals: _Signals, progress: Progress) -> None:
        super().__init__()
        self.fn, self.signals, self.progress = fn, signals, progress
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self.fn(self.progress)
        except BaseException as exc:  # noqa: BLE001 - delivered to the UI thread
            self.signals.failed.emit(exc)
        else:
            self.signals.finished.emit(result)


class Job(QObject):
    """A running task: connect to ``progress``/``finished``/``failed``; ``cancel()`` asks it to stop."""

    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._signals = _Signals()
        self._signals.progress.connect(self.progress)
        self._signals.finished.connect(self._done)
        self._signals.failed.connect(self._fail)
        self.prog = Progress(lambda f, t: self._signals.progress.emit(f, t))
        self.running = False

    def _done(self, result: object) -> None:
        self.running = False
        self.finished.emit(result)

    def _fail(self, exc: object) -> None:
        self.running = False
        self.failed.emit(exc)

    def cancel(self) -> None:
        self.prog.cancel()


class Runner:
    """Runs callables on the global QThreadPool."""

    def start(self, fn: Callable[[Progress], Any], parent: QObject | None = None) -> Job:
        job = Job(parent)
        job.running = True
        QThreadPool.globalInstance().start(_Task(fn, job._signals, job.prog))
        return job


class SyncRunner(Runner):
    """Runs the callable at once on the calling thread (tests)."""

    def start(self, fn: Callable[[Progress], Any], parent: QObject | None = None) -> Job:
        job = Job(parent)
        job.running = True
        task = _Task(fn, job._signals, job.prog)
        # Deliver after the caller has connected its slots.
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, task.run)
        return job


runner: Runner = Runner()
