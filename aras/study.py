"""Studies: many solves (networks x hardware variants x methods x time limits x seeds).

A study file (TOML, ``instances/sets/*.toml``) names the networks, a base
hardware with variants, the methods and, for the searching methods, time
limits and seeds. :func:`load_study` validates it (one-line errors naming the
field) and expands it into :class:`Task` objects with stable ids;
:func:`run_study` runs the tasks in worker processes (or on a Dask cluster)
and appends every finished task to ``DIR/results.jsonl``:

- one JSON object per line, written with a single ``write`` and ``fsync``
  after the task's schedule file was renamed into place, so a kill (even
  ``kill -9``) loses at most the tasks still running;
- on start, the tasks already in ``results.jsonl`` are skipped, so running
  the same command again resumes; a torn last line (a kill mid-write) is cut
  off first.

Workers build the problem themselves from the task (network spec and full
hardware parameters), because Pyomo models do not pickle and a cluster's
workers need nothing but the task. The parent process alone writes files.

Study file format::

    name = "sensitivity"                # optional, defaults to the file name
    networks = ["resnet50", "nets/my.json"]   # built-in names or files (relative to this file)
    methods = ["baseline", "aras", "milp"]
    time_limits = [30]                  # seconds, searching methods only (default [60])
    seeds = [0]                         # searching methods only (default [0])
    banks = "greedy"                    # Gbuffer bank choice for every method
    threads = 1                         # solver threads per task

    [hardware]
    base = "aras"                       # built-in name or TOML file
    include_base = true                 # the base itself is a variant named "base"

    [hardware.variants]                 # named variants: overrides of any parameter
    small = { pes = 48 }

    [hardware.sweep]                    # one variant per value, other parameters at base
    pes = [48, 192]
    write_latency_cycles = ["x0.5", "x2"]   # "xF": F times the base value
    gbuffer_banks = ["baseline"]        # bank sets: "aras", "baseline" or a list of bytes

    [options.milp]                      # keyword options of one method
    window = 6
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import signal
import threading
import time
import tomllib
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aras.errors import InputError
from aras.hardware import ARAS_BANKS, BASELINE_BANKS, Hardware, load_hardware

#: Methods that search and so take a time limit and a seed.
SEARCHING = ("milp", "milp-full")
#: Keyword options a study may pass to a method.
METHOD_OPTIONS = {
    "milp": {"window", "overlap", "window_time", "lookback", "gap", "solver"},
    "milp-full": {"lookback", "gap", "solver"},
}
RESULTS = "results.jsonl"
SCHEDULES = "schedules"
_BANK_SETS = {"aras": list(ARAS_BANKS), "baseline": list(BASELINE_BANKS)}
_TOP_KEYS = {"name", "description", "networks", "methods", "time_limits", "seeds", "banks",
             "threads", "hardware", "options"}


@dataclass(frozen=True)
class Task:
    """One solve of a study.

    Attributes
    ----------
    id
        Stable identifier ``network/variant/method[/tT/sS]``; results are keyed by it.
    network
        Display name of the network (built-in name or file stem).
    network_spec
        What :func:`aras.zoo.load_network` takes (a built-in name or an absolute path).
    variant
        Hardware variant name.
    hardware
        Every hardware parameter of the variant (so a worker needs no file).
    method
        A key of :data:`aras.solve.METHODS`.
    time_limit, seed
        For searching methods; None for the constructive ones.
    banks, threads
        Bank choice and solver threads.
    options
        Extra keyword options of the method.
    """

    id: str
    network: str
    network_spec: str
    variant: str
    hardware: dict[str, Any]
    method: str
    time_limit: float | None = None
    seed: int | None = None
    banks: str = "greedy"
    threads: int = 1
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        """File name of the task's schedule: the id made safe, plus a short hash."""
        safe = re.sub(r"[^A-Za-z0-9_.=-]+", "_", self.id.replace("/", "__"))
        digest = hashlib.sha1(self.id.encode()).hexdigest()[:8]
        return f"{safe}-{digest}.json"


@dataclass
class Study:
    """A validated study: its tasks and where it came from."""

    name: str
    source: Path
    tasks: list[Task]
    variants: dict[str, dict[str, Any]]
    base_variant: str | None
    sweeps: dict[str, list[str]]          # parameter -> variant names of its sweep
    description: str = ""


# --------------------------------------------------------------------------- loading

def _list(data: dict[str, Any], key: str, where: str, default: list[Any] | None = None
          ) -> list[Any]:
    v = data.get(key, default)
    if v is None:
        raise InputError(f"{where}: '{key}' is missing")
    if not isinstance(v, list) or not v:
        raise InputError(f"{where}: {key} must be a non-empty list, got {v!r}")
    return v


def _override(base: Hardware, param: str, value: Any, where: str) -> Any:
    """The value an override sets: ``"xF"`` scales the base value, bank-set names expand."""
    if param == "gbuffer_banks" and isinstance(value, str):
        if value not in _BANK_SETS:
            raise InputError(f"{where}: unknown bank set '{value}' (known: "
                             f"{', '.join(_BANK_SETS)}, or a list of byte sizes)")
        return _BANK_SETS[value]
    if isinstance(value, str) and value.startswith("x"):
        try:
            factor = float(value[1:])
        except ValueError:
            raise InputError(f"{where}: '{value}' is not a scale like \"x2\"") from None
        cur = getattr(base, param, None)
        if not isinstance(cur, (int, float)) or isinstance(cur, bool):
            raise InputError(f"{where}: '{param}' cannot be scaled")
        if not math.isfinite(factor) or factor <= 0:
            raise InputError(f"{where}: the scale must be > 0, got {value}")
        scaled = cur * factor
        return int(round(scaled)) if isinstance(cur, int) else scaled
    return value


def _variant(base: Hardware, name: str, changes: Any, where: str) -> dict[str, Any]:
    if not isinstance(changes, dict):
        raise InputError(f"{where}: a variant is a table of parameter overrides")
    params = base.to_dict()
    for k, v in changes.items():
        if k not in params or k == "name":
            raise InputError(f"{where}.{k}: unknown hardware parameter '{k}'")
        params[k] = _override(base, k, v, f"{where}.{k}")
    params["name"] = name
    try:
        return Hardware.from_dict(params, source=where).to_dict()
    except InputError as exc:
        # Hardware messages start with "hardware."; name the study field instead.
        raise InputError(f"{where}: {str(exc).removeprefix('hardware.')}") from None


def _value_name(v: Any) -> str:
    if isinstance(v, float) and v == int(v) and abs(v) < 1e6:
        return str(int(v))
    if isinstance(v, float):
        return f"{v:g}".replace("e+0", "e").replace("e+", "e")
    if isinstance(v, list):
        return "[" + ",".join(str(x) for x in v) + "]"
    return str(v)


def load_study(path: str | Path) -> Study:
    """Read and validate a study file.

    Parameters
    ----------
    path
        A TOML study file (format in this module's docstring).

    Returns
    -------
    Study
        The study with its tasks expanded, searching methods first.

    Raises
    ------
    InputError
        On a missing or malformed file or any invalid field (the message names it).
    """
    from aras.solve import METHODS
    from aras.zoo import BUILTIN

    p = Path(path)
    if not p.is_file():
        raise InputError(f"study file not found: {p}")
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{p}: malformed TOML: {str(exc).splitlines()[0]}") from None
    except UnicodeDecodeError:
        raise InputError(f"{p}: not a text file") from None
    w = p.name
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise InputError(f"{w}: unknown key '{unknown[0]}' (known: {', '.join(sorted(_TOP_KEYS))})")
    name = data.get("name", p.stem)
    if not isinstance(name, str) or not name:
        raise InputError(f"{w}: name must be a non-empty string")

    networks: list[tuple[str, str]] = []
    for i, n in enumerate(_list(data, "networks", w)):
        if not isinstance(n, str):
            raise InputError(f"{w}: networks[{i}] must be a string, got {n!r}")
        if n in BUILTIN or n == "minilm-l6":
            networks.append((n, n))
            continue
        f = (p.parent / n).resolve()
        if not f.is_file():
            raise InputError(f"{w}: networks[{i}]: '{n}' is neither a built-in network "
                             f"({', '.join(BUILTIN)}) nor a file")
        from aras.network import Network

        loaded = Network.load(f)  # validates now, not in a worker an hour later
        networks.append((loaded.name, str(f)))
    names = [n for n, _ in networks]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"{w}: networks: '{dup}' is listed twice")

    methods = _list(data, "methods", w)
    for i, m in enumerate(methods):
        if m not in METHODS:
            raise InputError(f"{w}: methods[{i}]: unknown method '{m}' "
                             f"(known: {', '.join(METHODS)})")
    if len(set(methods)) != len(methods):
        raise InputError(f"{w}: methods: a method is listed twice")
    time_limits = _list(data, "time_limits", w, [60])
    for i, t in enumerate(time_limits):
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not t > 0:
            raise InputError(f"{w}: time_limits[{i}] must be a number > 0, got {t!r}")
    seeds = _list(data, "seeds", w, [0])
    for i, s in enumerate(seeds):
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise InputError(f"{w}: seeds[{i}] must be an integer >= 0, got {s!r}")
    banks = data.get("banks", "greedy")
    if banks not in ("greedy", "exact", "ilp", "liveness"):
        raise InputError(f"{w}: banks must be greedy, exact, ilp or liveness, got {banks!r}")
    threads = data.get("threads", 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError(f"{w}: threads must be an integer >= 1, got {threads!r}")
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise InputError(f"{w}: options must be a table of method tables")
    for m, opts in options.items():
        if m not in METHOD_OPTIONS:
            raise InputError(f"{w}: options.{m}: only {', '.join(METHOD_OPTIONS)} take options")
        if not isinstance(opts, dict):
            raise InputError(f"{w}: options.{m} must be a table")
        bad = sorted(set(opts) - METHOD_OPTIONS[m])
        if bad:
            raise InputError(f"{w}: options.{m}.{bad[0]}: unknown option (known: "
                             f"{', '.join(sorted(METHOD_OPTIONS[m]))})")

    hw_data = data.get("hardware", {})
    if not isinstance(hw_data, dict):
        raise InputError(f"{w}: hardware must be a table")
    bad = sorted(set(hw_data) - {"base", "include_base", "variants", "sweep"})
    if bad:
        raise InputError(f"{w}: hardware.{bad[0]}: unknown key")
    base_spec = hw_data.get("base", "aras")
    if not isinstance(base_spec, str):
        raise InputError(f"{w}: hardware.base must be a name or a file")
    if base_spec not in ("aras", "baseline"):
        base_spec = str((p.parent / base_spec).resolve())
    try:
        base = load_hardware(base_spec)
    except InputError as exc:
        raise InputError(f"{w}: hardware.base: {exc}") from None
    variants: dict[str, dict[str, Any]] = {}
    seen: dict[str, str] = {}   # hardware fingerprint -> variant name (no duplicate solves)

    def put(vname: str, params: dict[str, Any]) -> str:
        key = json.dumps({k: v for k, v in params.items() if k != "name"}, sort_keys=True)
        if key in seen:
            return seen[key]
        if vname in variants:
            raise InputError(f"{w}: hardware variant '{vname}' is defined twice")
        seen[key] = vname
        variants[vname] = params
        return vname

    include_base = hw_data.get("include_base", True)
    if not isinstance(include_base, bool):
        raise InputError(f"{w}: hardware.include_base must be true or false")
    base_variant = put("base", _variant(base, "base", {}, f"{w}: hardware.base")
                       ) if include_base else None
    named = hw_data.get("variants", {})
    if not isinstance(named, dict):
        raise InputError(f"{w}: hardware.variants must be a table of tables")
    for vname, changes in named.items():
        put(vname, _variant(base, vname, changes, f"{w}: hardware.variants.{vname}"))
    sweep = hw_data.get("sweep", {})
    if not isinstance(sweep, dict):
        raise InputError(f"{w}: hardware.sweep must be a table of lists")
    sweeps: dict[str, list[str]] = {}
    for param, values in sweep.items():
        values = _list(sweep, param, f"{w}: hardware.sweep")
        sweeps[param] = []
        for i, v in enumerate(values):
            vname = f"{param}={_value_name(v)}"
            got = put(vname, _variant(base, vname, {param: v},
                                      f"{w}: hardware.sweep.{param}[{i}]"))
            sweeps[param].append(got)
    if not variants:
        raise InputError(f"{w}: no hardware variant (include_base = false and none given)")

    tasks: list[Task] = []
    for net, spec in networks:
        for vname, params in variants.items():
            for m in methods:
                opts = dict(options.get(m, {}))
                if m in SEARCHING:
                    for t in time_limits:
                        for s in seeds:
                            tasks.append(Task(f"{net}/{vname}/{m}/t{_value_name(float(t))}/s{s}",
                                              net, spec, vname, params, m, float(t), s, banks,
                                              threads, opts))
                else:
                    tasks.append(Task(f"{net}/{vname}/{m}", net, spec, vname, params, m,
                                      banks=banks, threads=threads, options=opts))
    # Longest first: searching tasks take their whole time limit, so starting them
    # early keeps the workers busy to the end (a classic LPT order).
    tasks.sort(key=lambda t: -(t.time_limit or 0.0))
    return Study(name, p, tasks, variants, base_variant, sweeps,
                 str(data.get("description", "")))


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
    rec: dict[str, Any] = {
        "task": t.id, "network": t.network, "hardware": t.variant, "method": t.method,
        "time_limit": t.time_limit, "seed": t.seed, "banks": t.banks,
    }
    try:
        from aras.mapping import map_network
        from aras.pretrained import weights_for
        from aras.solve import solve
        from aras.zoo import load_network

        hw = Hardware.from_dict(t.hardware, source=f"task {t.id}: hardware")
        problem = map_network(load_network(t.network_spec), hw)
        opts: dict[str, Any] = dict(t.options)
        if t.method in SEARCHING:
            opts.update(threads=t.threads, seed=t.seed)
        res = solve(problem, method=t.method, time_limit=t.time_limit, banks=t.banks,
                    weights=weights_for(problem.network.name), **opts)
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

    Lines that are not JSON objects (a torn last line) are skipped.
    """
    path = Path(out_dir) / RESULTS
    if not path.exists():
        return []
    by_task: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and "task" in rec:
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
        """Store the schedule (atomic rename), then append the record (one write, fsync)."""
        sched = rec.pop("_schedule", None)
        if sched is not None:
            target = self.dir / SCHEDULES / task.filename
            tmp = target.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(sched))
            os.replace(tmp, target)
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
        raise InputError("--scheduler: Dask is not installed (pip install 'aras[dask]')"
                         ) from None
    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler, timeout=20) if own else scheduler
    except (OSError, TimeoutError) as exc:
        raise InputError(f"--scheduler: cannot reach {scheduler}: {exc}") from None
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


def _failed(t: Task, exc: BaseException) -> dict[str, Any]:
    return {"task": t.id, "network": t.network, "hardware": t.variant, "method": t.method,
            "time_limit": t.time_limit, "seed": t.seed, "banks": t.banks,
            "status": "failed", "error": f"{type(exc).__name__}: {exc}", "wall_s": None}


@dataclass
class StudyRun:
    """What :func:`run_study` did."""

    total: int
    skipped: int            # already in results.jsonl
    finished: int = 0
    failed: int = 0
    interrupted: bool = False


def pending_tasks(study: Study, out_dir: str | Path, retry_failed: bool = False) -> list[Task]:
    """The study's tasks that ``out_dir`` has no record of (or a failed one, on request)."""
    done = {r["task"]: r for r in load_results(out_dir)}
    return [t for t in study.tasks if t.id not in done
            or (retry_failed and done[t.id].get("status") == "failed")]


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
    """
    if workers < 1:
        raise InputError(f"--workers: must be >= 1, got {workers}")
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
    tmp = out / "study.json.tmp"
    tmp.write_text(json.dumps(meta, indent=1))
    os.replace(tmp, out / "study.json")


__all__ = ["Task", "Study", "StudyRun", "load_study", "run_task", "run_study",
           "load_results", "pending_tasks", "ResultWriter", "SEARCHING"]
