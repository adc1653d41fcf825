"""Running studies: worker processes or a Dask cluster, and a crash-safe results file.

:func:`run_study` runs a :class:`~aras.studies.study.Study`'s tasks and appends every
finished task to ``DIR/results.jsonl``:

- one JSON object per line, written with a single ``write`` and ``fsync``
  after the task's schedule file was written, fsynced and renamed into place
  (and the directory fsynced), so a kill (even ``kill -9``, or a power cut)
  loses at most the tasks still running and no record names a missing or
  partial schedule;
- on start, the tasks already in ``results.jsonl`` are skipped, so running
  the same command again resumes; a torn last line (a kill mid-write) is cut
  off first.

Workers build the problem themselves from the task (network spec and full
hardware parameters), because Pyomo models do not pickle and a cluster's
workers need nothing but the task. The parent process alone writes files.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import json
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aras.model.errors import InputError, arg_name
from aras.model.hardware import Hardware
from aras.studies.study import SEARCHING, Study, Task

RESULTS = "results.jsonl"
SCHEDULES = "schedules"


# --------------------------------------------------------------------------- one task

def run_task(task: Task | dict[str, Any]) -> dict[str, Any]:
    """Solve one task and return its record (never raises).

    The record holds the task's fields, the solve's figures (``aras solve
    --json``'s report less the bulky parts), the wall time and, under
    ``"_schedule"``, the schedule as a dict for the caller to store. A failure
    gives ``status = "failed"`` and the error.
    """
    t = task if isinstance(task, Task) else Task(**task)
    t0 = time.perf_counter()
    rec = _header(t)
    try:
        from aras.frontends import load_network
        from aras.frontends.pretrained import weights_for
        from aras.methods.solve import solve
        from aras.model.mapping import map_network

        hw = Hardware.from_dict(t.hardware, source=f"task {t.id}: hardware")
        net_opts = dict(t.network_options)
        if "input_shapes" in net_opts:
            net_opts["input_shapes"] = {k: tuple(v) for k, v in net_opts["input_shapes"].items()}
        batch = net_opts.pop("batch", 1)
        problem = map_network(load_network(t.network_spec, **net_opts), hw, batch=batch)
        opts: dict[str, Any] = dict(t.options)
        if t.method in SEARCHING:
            opts.update(threads=t.threads, seed=t.seed)
        # a method that is not built in is imported from its spec: this process (a spawned
        # or Dask worker) never saw the study process's registrations
        res = solve(problem, method=t.method_spec or t.method, time_limit=t.time_limit,
                    banks=t.banks, weights=weights_for(problem.network), **opts)
        d = res.to_dict(problem)
        d.pop("milp", None)  # the per-window trace is in the schedule's extra
        rec.update({k: v for k, v in d.items() if k not in ("network", "hardware", "method")})
        rec["status"] = res.status.value
        rec["size"] = {"layers": len(problem.network.weighted_ops),
                       "steps": len(problem.steps),
                       "weighted_steps": len(problem.weighted_steps),
                       "weights": problem.network.weight_count,
                       "apu_rows": sum(s.apu_rows for s in problem.steps)}
        rec["resources"] = {"pes": hw.pes, "total_apu_rows": hw.total_apu_rows,
                            "write_latency_cycles": hw.write_latency_cycles,
                            "memory_bandwidth_bytes_s": hw.memory_bandwidth_bytes_s,
                            "gbuffer_bytes": hw.gbuffer_bytes,
                            "gbuffer_banks": len(hw.gbuffer_banks)}
        if res.schedule is not None:
            rec["_schedule"] = res.schedule.to_dict()
        rec["error"] = None
    except Exception as exc:  # a failed task is a record, not the end of the study
        rec["status"] = "failed"
        rec["error"] = f"{type(exc).__name__}: {exc}"
        rec["traceback"] = traceback.format_exc(limit=8)
    rec["wall_s"] = time.perf_counter() - t0
    return rec


# --------------------------------------------------------------------------- results file

def _repair(path: Path) -> None:
    """Cut a torn last line (a kill in the middle of a write) off the results file."""
    if not path.exists():
        return
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    with open(path, "r+b") as f:
        f.truncate(cut)


def load_results(out_dir: str | Path) -> list[dict[str, Any]]:
    """The records of a study directory, the last one per task, in file order.

    A last line that is not a JSON object is skipped (a write torn by an interruption; the
    next run repairs it).

    Raises
    ------
    InputError
        When ``results.jsonl`` is not a readable file, or a line before the last is not a
        study record (a damaged file: counting around it would report a wrong study).
    """
    path = Path(out_dir) / RESULTS
    if not path.exists():
        return []
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from None
    by_task: dict[str, dict[str, Any]] = {}
    for i, line in enumerate(lines):
        try:
            rec = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            rec = None
        if not (isinstance(rec, dict) and "task" in rec):
            if i == len(lines) - 1:
                continue
            raise InputError(f"{path}: line {i + 1} is not a study record (a JSON object "
                             "with a 'task'); the file is damaged")
        by_task.pop(rec["task"], None)
        by_task[rec["task"]] = rec
    return list(by_task.values())


class ResultWriter:
    """Appends records to ``results.jsonl`` and stores their schedules, crash-safely."""

    def __init__(self, out_dir: str | Path):
        self.dir = Path(out_dir)
        (self.dir / SCHEDULES).mkdir(parents=True, exist_ok=True)
        self.path = self.dir / RESULTS
        _repair(self.path)
        self._f = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (held open for appends)

    def write(self, task: Task, rec: dict[str, Any]) -> None:
        """Store the schedule (fsync, atomic rename, fsync of the directory), then append the
        record (one write, fsync): a record on disk always has its whole schedule on disk."""
        sched = rec.pop("_schedule", None)
        if sched is not None:
            target = self.dir / SCHEDULES / task.filename
            tmp = target.with_suffix(".json.tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(json.dumps(sched))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
            _fsync_dir(target.parent)
            rec["schedule"] = f"{SCHEDULES}/{task.filename}"
        else:
            rec["schedule"] = None
        rec["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        self._f.write(json.dumps(rec, default=_jsonable) + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        """Close the results file."""
        self._f.close()


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (the directory entry itself is synced)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return str(v)


# --------------------------------------------------------------------------- running

def _watch_parent(parent: int) -> None:
    """Worker initializer: exit when the study process dies (even by kill -9).

    Without it the workers of a killed study would finish their tasks for no
    one and compete with the resumed run for the cores.
    """
    def loop() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=loop, daemon=True).start()
    # Ctrl-C goes to the whole process group; the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _local(tasks: list[Task], workers: int) -> Iterator[tuple[Task, dict[str, Any]]]:
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn: the parent runs threads (progress display), which fork does not survive well.
    ctx = mp.get_context("spawn")
    ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_watch_parent,
                             initargs=(os.getpid(),))
    finished = False
    try:
        pending = {ex.submit(run_task, asdict(t)): t for t in tasks}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                t = pending.pop(fut)
                try:
                    rec = fut.result()
                except Exception as exc:  # the worker process died
                    rec = _failed(t, exc)
                yield t, rec
        finished = True
    finally:
        # Interrupted (Ctrl-C, SIGTERM, or the consumer stopped early): stop the running
        # tasks too. Otherwise the interpreter's exit hook waits for them, which for a MILP
        # task means its whole time limit. Their results were not recorded, so nothing is lost.
        if not finished:
            for proc in list((getattr(ex, "_processes", None) or {}).values()):
                proc.terminate()
        ex.shutdown(wait=not finished, cancel_futures=True)


def _dask(tasks: list[Task], scheduler: Any) -> Iterator[tuple[Task, dict[str, Any]]]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError(f"{arg_name('scheduler')}: Dask is not installed (pip install "
                         "'aras[dask]')") from None
    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler, timeout=20) if own else scheduler
    except (OSError, TimeoutError) as exc:
        raise InputError(f"{arg_name('scheduler')}: cannot reach {scheduler}: {exc}") from None
    try:
        futs = {client.submit(run_task, asdict(t), key=f"aras-{t.filename}", pure=False): t
                for t in tasks}
        for fut in as_completed(list(futs)):
            t = futs[fut]
            try:
                rec = fut.result()
            except Exception as exc:  # a worker died or the cluster went away
                rec = _failed(t, exc)
            yield t, rec
    finally:
        if own:
            client.close()


def _header(t: Task) -> dict[str, Any]:
    """The fields every record of a task starts with."""
    head = {"task": t.id, "network": t.network, "hardware": t.variant, "method": t.method,
            "time_limit": t.time_limit, "seed": t.seed, "banks": t.banks}
    if t.method_spec is not None:
        head["method_spec"] = t.method_spec
    return head


def _failed(t: Task, exc: BaseException) -> dict[str, Any]:
    return {**_header(t), "status": "failed", "error": f"{type(exc).__name__}: {exc}",
            "wall_s": None}


@dataclass
class StudyRun:
    """What :func:`run_study` did."""

    total: int
    skipped: int            # already in results.jsonl
    finished: int = 0
    failed: int = 0
    interrupted: bool = False


#: Record statuses that ``--retry-failed`` runs again: the task raised (``failed``) or its
#: method did (``error``: a solver crash, a schedule the evaluator rejected).
RETRY_STATUSES = ("failed", "error")


def pending_tasks(study: Study, out_dir: str | Path, retry_failed: bool = False) -> list[Task]:
    """The study's tasks that ``out_dir`` has no record of (or a failed one, on request)."""
    done = {r["task"]: r for r in load_results(out_dir)}
    return [t for t in study.tasks if t.id not in done
            or (retry_failed and done[t.id].get("status") in RETRY_STATUSES)]


def run_study(study: Study, out_dir: str | Path, *, workers: int = 2,
              scheduler: Any = None, retry_failed: bool = False,
              on_result: Callable[[Task, dict[str, Any]], None] | None = None,
              on_start: Callable[[int, int], None] | None = None) -> StudyRun:
    """Run a study's pending tasks and append each result as it finishes.

    Parameters
    ----------
    study
        From :func:`load_study`.
    out_dir
        Results directory (created); ``results.jsonl`` there decides what is pending.
    workers
        Local worker processes (ignored with a scheduler).
    scheduler
        A Dask scheduler address (``tcp://host:port``) or a ``distributed.Client``;
        None runs locally.
    retry_failed
        Run again the tasks recorded as failed.
    on_result, on_start
        Progress callbacks: ``on_start(total, pending)`` once, then
        ``on_result(task, record)`` per finished task.

    Returns
    -------
    StudyRun
        Counts; ``interrupted`` when stopped by Ctrl-C or SIGTERM (what finished is kept).

    Raises
    ------
    InputError
        ``workers`` below 1, no Dask or no scheduler at that address.
    RuntimeError
        Local workers and a call from the top level of a script that is not under
        ``if __name__ == "__main__":``. The workers are spawned processes, and each one
        runs the script's top level again on start (see :mod:`multiprocessing`'s "safe
        importing of main module"), so the call must be under that guard.
    """
    if workers < 1:
        raise InputError(f"{arg_name('workers')}: must be >= 1, got {workers}")
    if scheduler is None:
        _check_main_guard()
    elif importlib.util.find_spec("distributed") is None:
        # before the output directory and the header: not after them
        raise InputError(f"{arg_name('scheduler')}: Dask is not installed (pip install "
                         "'aras[dask]')")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _record_spec(study, out)
    _repair(out / RESULTS)
    todo = pending_tasks(study, out, retry_failed)
    run = StudyRun(total=len(study.tasks), skipped=len(study.tasks) - len(todo))
    if on_start:
        on_start(run.total, len(todo))
    if not todo:
        return run
    writer = ResultWriter(out)
    stream: Iterable[tuple[Task, dict[str, Any]]] = (
        _dask(todo, scheduler) if scheduler is not None else _local(todo, min(workers, len(todo))))
    old = _term_as_interrupt()
    try:
        for t, rec in stream:
            writer.write(t, rec)
            run.finished += 1
            run.failed += rec.get("status") == "failed"
            if on_result:
                on_result(t, rec)
    except KeyboardInterrupt:
        run.interrupted = True
    finally:
        with contextlib.suppress(Exception):
            close = getattr(stream, "close", None)
            if close:
                close()
        writer.close()
        signal.signal(signal.SIGTERM, old)
    return run


def _check_main_guard() -> None:
    """Refuse, before any work, a local run that its own worker processes would repeat.

    A spawned worker starts by running the parent's main script again as ``__mp_main__``;
    a study started from the script's top level without the ``__name__`` guard would start
    again in every worker (which multiprocessing then stops with a long error per worker,
    and every task of the study is recorded as failed). Found here by the call stack: the
    main script's top-level frame, and whether the statement it is executing sits under an
    ``if`` that tests ``__name__``.
    """
    import inspect

    frame = inspect.currentframe()
    top = None
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") in (
                "__main__", "__mp_main__"):
            top = frame
        frame = frame.f_back
    if top is None:
        return
    fix = ("put the study under `if __name__ == \"__main__\":` (spawned worker processes run "
           "the script's top level again)")
    script = top.f_code.co_filename
    if top.f_globals["__name__"] == "__mp_main__":
        # this process is a worker starting up: stop before it touches the results
        raise RuntimeError(f"run_study: {script} runs a study at its top level; {fix}")
    main = sys.modules.get("__main__")
    spec_name = getattr(getattr(main, "__spec__", None), "name", None)
    if spec_name is not None and (spec_name == "__main__" or spec_name.endswith(".__main__")):
        return  # multiprocessing does not run a package's __main__ again in its workers
    main_file = getattr(main, "__file__", None)
    if not main_file or Path(main_file).resolve() != Path(script).resolve():
        return  # python -c, a REPL or a notebook: the workers run nothing of it
    try:
        tree = ast.parse(Path(script).read_text(), script)
    except (OSError, SyntaxError, ValueError):
        return
    if not _under_name_guard(tree.body, top.f_lineno):
        raise RuntimeError(f"run_study: called from the top level of {script} (line "
                           f"{top.f_lineno}); {fix}")


def _under_name_guard(body: list[Any], line: int) -> bool:
    """Whether ``line`` is inside an ``if`` whose test reads ``__name__``."""
    for node in body:
        end = getattr(node, "end_lineno", None) or node.lineno
        if not node.lineno <= line <= end:
            continue
        if isinstance(node, ast.If) and any(isinstance(n, ast.Name) and n.id == "__name__"
                                            for n in ast.walk(node.test)):
            return True
        for field in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(node, field, None)
            if isinstance(inner, list) and _under_name_guard(inner, line):
                return True
        for case in getattr(node, "cases", []):  # match statements
            if _under_name_guard(case.body, line):
                return True
    return False


def _term_as_interrupt() -> Any:
    """Treat SIGTERM like Ctrl-C, so a scheduler's kill also stops cleanly."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        return signal.signal(signal.SIGTERM, handler)
    return signal.getsignal(signal.SIGTERM)


def _record_spec(study: Study, out: Path) -> None:
    """Keep the study file beside its results, and what the report needs of it.

    ``study.toml`` is a verbatim copy for people; ``study.json`` holds the
    expanded variants and sweeps, so the report needs no network file.
    """
    copy = out / "study.toml"
    if not copy.exists():
        tmp = copy.with_suffix(".toml.tmp")
        tmp.write_text(study.source.read_text())
        os.replace(tmp, copy)
    meta = {"name": study.name, "description": study.description,
            "source": str(study.source.resolve()), "tasks": len(study.tasks),
            "base_variant": study.base_variant, "sweeps": study.sweeps,
            "variants": study.variants}
    objective = next((t.options["objective"] for t in study.tasks
                      if isinstance(t.options.get("objective"), str)), None)
    if objective is not None:  # the report says what was minimised
        meta["objective"] = objective
    tmp = out / "study.json.tmp"
    tmp.write_text(json.dumps(meta, indent=1))
    os.replace(tmp, out / "study.json")


__all__ = ["StudyRun", "run_task", "run_study", "load_results", "pending_tasks",
           "ResultWriter", "RESULTS", "SCHEDULES"]
