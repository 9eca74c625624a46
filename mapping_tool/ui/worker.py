"""One helper runs long work off the UI thread and delivers the result on the main thread.

Services take a Qt-free ``progress`` object (``report(fraction, text)``, ``cancelled()``); this
module adapts it to signals. Tests swap ``Runner`` for ``SyncRunner`` to run work inline.

Lifetimes: a worker thread never drops the last reference to anything made on the main thread.
The signals object (a QObject of the main thread) and the callable (whose closure may hold a
page) stay in ``_LIVE`` until the result has been delivered on the main thread, even when the
page that started the job was closed meanwhile; a QObject destroyed on another thread while an
event for it is queued is undefined behaviour in Qt (it crashed a test run once).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot

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
    delivered = Signal()  # emitted by the worker last, received on the main thread

    def __init__(self) -> None:
        super().__init__()
        # Queued to the main thread (this object lives there), after ``finished``/``failed``.
        self.delivered.connect(self._delivered, Qt.ConnectionType.QueuedConnection)

    @Slot()
    def _delivered(self) -> None:
        # released outside any slot of the object being released
        QTimer.singleShot(0, partial(_release, id(self)))


class _Entry:
    """What one task refers to: kept here (on the main thread) until the worker has let go of
    it and the result has been delivered."""

    def __init__(self, signals: _Signals, fn: Callable[[Progress], Any], progress: Progress) -> None:
        self.signals, self.fn, self.progress = signals, fn, progress
        self.let_go = threading.Event()  # set by the worker once it holds none of the above


_LIVE: dict[int, _Entry] = {}


def _keep(signals: _Signals, fn: Callable[[Progress], Any], progress: Progress) -> int:
    key = id(signals)
    _LIVE[key] = _Entry(signals, fn, progress)
    return key


def _release(key: int) -> None:
    """On the main thread: forget a delivered task (nothing else refers to its objects then,
    unless the page that started it still does)."""
    entry = _LIVE.get(key)
    if entry is None:
        return
    if entry.let_go.is_set():
        del _LIVE[key]
    else:  # the worker is between its last signal and letting go: a moment
        QTimer.singleShot(5, partial(_release, key))


def running_tasks() -> int:
    """Tasks started and not yet delivered on the main thread (tests wait for none)."""
    return len(_LIVE)


class _Task(QRunnable):
    """Runs on a pool thread; refers to the task's objects only while running, through
    ``_LIVE``, so that the last reference is always dropped on the main thread."""

    def __init__(self, key: int) -> None:
        super().__init__()
        self.key = key
        self.setAutoDelete(True)

    def run(self) -> None:
        entry = _LIVE[self.key]
        let_go = entry.let_go
        signals, fn, progress = entry.signals, entry.fn, entry.progress
        del entry  # once let go, the main thread may release it: no reference may stay here
        try:
            try:
                result = fn(progress)
            except BaseException as exc:  # noqa: BLE001 - delivered to the UI thread
                signals.failed.emit(exc)
                del exc
            else:
                signals.finished.emit(result)
                del result
            signals.delivered.emit()
        finally:
            del signals, fn, progress
            let_go.set()


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
        signals = self._signals  # not the job: the progress object must not keep the job alive
        self.prog = Progress(lambda f, t: signals.progress.emit(f, t))
        self.running = False

    @Slot(object)
    def _done(self, result: object) -> None:
        self.running = False
        self.finished.emit(result)

    @Slot(object)
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
        QThreadPool.globalInstance().start(_Task(_keep(job._signals, fn, job.prog)))
        return job


class SyncRunner(Runner):
    """Runs the callable at once on the calling thread (tests)."""

    def start(self, fn: Callable[[Progress], Any], parent: QObject | None = None) -> Job:
        job = Job(parent)
        job.running = True
        task = _Task(_keep(job._signals, fn, job.prog))
        # Deliver after the caller has connected its slots.
        QTimer.singleShot(0, task.run)
        return job


runner: Runner = Runner()


def finish_all(timeout_ms: int = 10000) -> bool:
    """Wait (at most ``timeout_ms``) for the running tasks to end: signing out closes the store,
    and a task must not be left reading it. True when none is left running."""
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
