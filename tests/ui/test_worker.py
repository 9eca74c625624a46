"""The worker helper: work runs on a pool thread, its result arrives on the main thread, and
everything the task refers to (its callable, the signals object) is let go on the main thread,
even when the page that started it was closed before the task ended (a QObject destroyed on a
pool thread crashed a test run once)."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject, QThread
from PySide6.QtWidgets import QWidget

from mapping_tool.ui import worker


class _Payload:
    """Something a task's closure holds (a page, a session...); records the thread that lets
    go of it last."""

    def __del__(self) -> None:
        _FREED_ON.append(threading.current_thread())


_FREED_ON: list[threading.Thread] = []


def test_the_result_arrives_on_the_main_thread_and_the_task_is_let_go(qtbot) -> None:  # type: ignore[no-untyped-def]
    payload = _Payload()
    held = weakref.ref(payload)
    ran_on: list[threading.Thread] = []
    delivered_on: list[QThread] = []

    def work(progress: worker.Progress, payload: _Payload = payload) -> int:  # the function holds it
        ran_on.append(threading.current_thread())
        progress.report(0.5, "half")
        return 41 + (payload is not None)

    owner = QObject()
    job = worker.runner.start(work, owner)
    job.finished.connect(lambda _r: delivered_on.append(QThread.currentThread()))
    with qtbot.waitSignal(job.finished, timeout=5000) as blocker:
        pass
    assert blocker.args == [42]
    assert ran_on and ran_on[0] is not threading.main_thread()
    assert delivered_on == [owner.thread()]  # the main thread
    del payload, work
    qtbot.waitUntil(lambda: worker.running_tasks() == 0, timeout=5000)
    gc.collect()
    assert held() is None  # nothing keeps the closure's objects once delivered
    assert _FREED_ON[-1] is threading.main_thread()


def test_a_failure_is_delivered_too(qtbot) -> None:  # type: ignore[no-untyped-def]
    def work(_progress: worker.Progress) -> None:
        raise ValueError("broken")

    owner = QObject()
    job = worker.runner.start(work, owner)
    with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
        pass
    assert isinstance(blocker.args[0], ValueError)
    qtbot.waitUntil(lambda: worker.running_tasks() == 0, timeout=5000)


def test_a_task_that_outlives_its_page_is_let_go_on_the_main_thread(qtbot) -> None:  # type: ignore[no-untyped-def]
    gate = threading.Event()
    payload = _Payload()
    held = weakref.ref(payload)

    def work(_progress: worker.Progress, payload: _Payload = payload) -> bool:  # the function holds it
        gate.wait(5)
        return payload is not None

    page = QWidget()
    job = worker.runner.start(work, page)
    signals = weakref.ref(job._signals)
    page.deleteLater()  # the page (and the job, its child) go while the task still runs
    del page, job, payload, work
    qtbot.wait(20)
    gc.collect()
    assert signals() is not None and held() is not None  # kept for the task, on the main thread
    gate.set()
    qtbot.waitUntil(lambda: worker.running_tasks() == 0, timeout=5000)
    gc.collect()
    assert signals() is None and held() is None
    assert _FREED_ON[-1] is threading.main_thread()  # let go on the main thread, not the pool's
