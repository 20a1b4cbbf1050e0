"""Experiment grids as tasks: one run spec, one record file; resumable, on Dask.

A *run spec* is a JSON-able dict naming one training run: the experiment, its
labels (dataset, protocol, study...), the method, the seed and the full
``config`` that determines the result. Its record is ``<out>/runs/<hash>.json``
where ``hash`` is the first 16 hex digits of the SHA-256 of the spec in
canonical JSON. A record holds the spec, the result (metrics, curves, timings,
status counts), the git commit, package versions and the machine, and a
checksum of its own body; it is written atomically (temporary file, fsync,
rename) and validated when read, so a truncated or edited record counts as
missing and its run is redone. A run whose record is valid is never redone
unless asked (``rerun=True``).

Long runs save a checkpoint (parameters, optimiser and RNG state, history)
every ``checkpoint_every`` epochs under ``<out>/checkpoints/`` and a restarted
run continues from it; on the CPU the result is bit for bit that of an
uninterrupted run.

Schedulers: ``"none"`` runs the grid in this process, one run after another;
``"local"`` starts a dask.distributed LocalCluster of ``workers`` processes,
one thread each, with the BLAS and numba thread pools of each worker pinned to
``cores // workers``; any other value is the address of a running Dask
scheduler (``tcp://host:8786``). Dask reruns the task of a worker that died.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import pathlib
import pickle
import platform
import subprocess
import sys
import tempfile
import time
import traceback
import warnings

import numpy as np

FORMAT = 1
EXPERIMENTS = {
    "citation": "problems.citation:run",
    "hopfield": "problems.hopfield:run",
    "hyperopt": "problems.hyperopt:run",
}
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


class GridError(RuntimeError):
    """Some runs of a grid raised; the others' records are written."""


# --------------------------------------------------------------------------- specs


def jsonable(obj):
    """``obj`` with NumPy scalars and arrays, paths and tuples made JSON types,
    and non-finite floats made None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return jsonable(obj.item())
    if isinstance(obj, pathlib.PurePath):
        return str(obj)
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def canonical(obj):
    """Canonical JSON text of ``obj`` (sorted keys, no spaces)."""
    return json.dumps(jsonable(obj), sort_keys=True, separators=(",", ":"))


def make_spec(experiment, method, seed, config, **labels):
    """A run spec: ``experiment``, ``method``, ``seed``, the labels (e.g.
    ``dataset="cora"``) and ``config`` (everything else the result depends on)."""
    return jsonable(
        {"experiment": experiment, "method": method, "seed": int(seed), **labels, "config": config}
    )


def spec_hash(spec):
    """First 16 hex digits of SHA-256 of the spec's canonical JSON."""
    return hashlib.sha256(canonical(spec).encode()).hexdigest()[:16]


def describe(spec):
    """One line naming a run: experiment, labels, method, seed."""
    labels = [
        f"{v}" for k, v in spec.items() if k not in ("experiment", "config", "method", "seed")
    ]
    return " ".join([spec["experiment"], *labels, spec["method"], f"seed {spec['seed']}"])


def parse_seeds(text):
    """``--seeds``: a count ``"5"`` (seeds 0..4), a range ``"2-4"``, or a list ``"0,3"``."""
    text = text.strip()
    try:
        if "," in text:
            seeds = [int(s) for s in text.split(",")]
        elif "-" in text[1:]:
            low, high = (int(s) for s in text.split("-", 1))
            seeds = list(range(low, high + 1))
        else:
            count = int(text)
            seeds = list(range(count)) if count >= 1 else []
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise ValueError(
            f"must be a count >= 1, a range like 0-4 or a list like 0,3 of distinct "
            f"seeds >= 0, got {text!r}"
        )
    return seeds


# --------------------------------------------------------------------------- files


def write_atomic(path, data):
    """Write ``data`` (bytes) to ``path`` through a temporary file in the same
    folder, fsync and rename: a reader sees the old file or the new one, whole."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 -> what open() would give
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself durable (POSIX)
        dirfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _checksum(body):
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def record_path(out, spec):
    return pathlib.Path(out) / "runs" / f"{spec_hash(spec)}.json"


def write_record(path, record):
    """Write ``record`` (a dict) with its checksum, atomically."""
    body = jsonable(record)
    body["checksum"] = _checksum(body)
    write_atomic(path, json.dumps(body, indent=1).encode())


def read_record(path):
    """The record at ``path``, or None when it is missing or invalid (not JSON,
    truncated, checksum or hash mismatch, unfinished); an invalid one is
    reported with a warning and will be redone."""
    path = pathlib.Path(path)
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
        checksum = record.pop("checksum")
        problem = (
            "checksum mismatch"
            if checksum != _checksum(record)
            else "format"
            if record.get("format") != FORMAT
            else "spec does not match the file name"
            if spec_hash(record["spec"]) != path.stem
            else "unfinished"
            if record.get("status") != "done"
            else None
        )
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        problem = f"unreadable ({type(err).__name__}: {err})"
    if problem:
        warnings.warn(f"record {path} is invalid ({problem}); its run will be redone", stacklevel=2)
        return None
    return record


def write_grid(out, specs, study=None):
    """out/grid.json: the experiment, the study (or None) and the hashes of a
    grid's specs, in order (problems/report.py reads it)."""
    grid = {"experiment": specs[0]["experiment"], "study": study,
            "runs": [spec_hash(s) for s in specs]}  # fmt: skip
    write_atomic(pathlib.Path(out) / "grid.json", json.dumps(grid, indent=1).encode())


def read_grid(out):
    """(grid, records): out/grid.json and the valid records of its runs, in
    grid order (runs not yet recorded are left out)."""
    grid = json.loads((pathlib.Path(out) / "grid.json").read_text())
    paths = [pathlib.Path(out) / "runs" / f"{h}.json" for h in grid["runs"]]
    return grid, [r for r in map(read_record, paths) if r is not None]


def run_summary(record):
    """The part of a record a results file lists per run: the seed and the
    result (metrics, curves, status counts...), seconds, where it resumed, the
    commit; not the spec, the machine or the diagnostic tables."""
    skip = {"format", "spec_hash", "spec", "status", "versions", "machine", "threads",
            "diagnostics", "retrieved", "ran", "started"}  # fmt: skip
    return {"seed": record["spec"]["seed"], **{k: v for k, v in record.items() if k not in skip}}


def read_records(out):
    """Every valid record under ``<out>/runs/``, sorted by file name."""
    paths = sorted((pathlib.Path(out) / "runs").glob("*.json"))
    return [r for r in map(read_record, paths) if r is not None]


class Checkpoint:
    """Periodic, atomic snapshots of a run's state (any picklable object).

    ``load()`` returns ``(epoch, state)`` of the last snapshot or None;
    ``maybe_save(epoch, state)`` writes one after every ``every``-th epoch
    (never when ``every`` is None or 0); ``clear()`` removes it once the record
    is written. A snapshot that does not unpickle is reported and ignored.
    """

    def __init__(self, path=None, every=None):
        self.path, self.every = (pathlib.Path(path) if path else None), every
        self.resumed_from = None

    def load(self):
        if self.path is None or not self.path.exists():
            return None
        try:
            epoch, state = pickle.loads(self.path.read_bytes())
        except Exception as err:  # noqa: BLE001 - any damage means: start over
            warnings.warn(
                f"checkpoint {self.path} is unreadable ({err}); starting over", stacklevel=2
            )
            return None
        self.resumed_from = epoch
        return epoch, state

    def maybe_save(self, epoch, state):
        if self.path is not None and self.every and (epoch + 1) % self.every == 0:
            write_atomic(self.path, pickle.dumps((epoch, state), protocol=pickle.HIGHEST_PROTOCOL))

    def clear(self):
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


# --------------------------------------------------------------------------- provenance


def git_commit():
    """HEAD of the repository holding this file (suffix ``+dirty`` when the
    work tree differs), or None outside a git checkout."""
    root = pathlib.Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def provenance():
    """Git commit, package versions and machine of this process."""
    from importlib.metadata import PackageNotFoundError, version

    from .common import machine

    versions = {}
    for name in ("rbptk", "numpy", "scipy", "numba", "cupy"):
        if name == "cupy" and "cupy" not in sys.modules:
            continue
        try:
            versions[name] = version(name) if name != "cupy" else sys.modules["cupy"].__version__
        except PackageNotFoundError:
            versions[name] = None
    return {
        "commit": git_commit(),
        "versions": {"python": platform.python_version(), **versions},
        "machine": machine(),
        "threads": {v: os.environ.get(v) for v in THREAD_VARIABLES} | {"numba": _numba_threads()},
    }


def _numba_threads():
    import numba

    return numba.get_num_threads()


# --------------------------------------------------------------------------- running


def task_function(experiment):
    """The callable ``run(spec, checkpoint, options) -> result`` of an experiment:
    a name of EXPERIMENTS or a ``"module:function"`` path."""
    target = EXPERIMENTS.get(experiment, experiment)
    if ":" not in target:
        raise ValueError(f"unknown experiment {experiment!r}; known: {sorted(EXPERIMENTS)}")
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def needs_run(record, options):
    """Whether a valid ``record`` still lacks what ``options`` ask for (the
    diagnostic tables, when ``options['diagnose']``)."""
    return record is None or (bool(options.get("diagnose")) and "diagnostics" not in record)


def execute(spec, out, rerun=False, checkpoint_every=None, options=None):
    """Run one spec unless its record exists; write the record; return it.

    ``options`` (not part of the spec: they do not change the result) go to the
    experiment: ``quiet`` (no progress bar), ``diagnose`` (add the diagnostic
    tables). The record's ``ran`` field says whether this call ran it.
    """
    options = dict(options or {})
    path = record_path(out, spec)
    record = None if rerun else read_record(path)
    if not needs_run(record, options):
        return {**record, "ran": False}
    _pin_numba()
    h = spec_hash(spec)
    checkpoint = Checkpoint(pathlib.Path(out) / "checkpoints" / f"{h}.pkl", checkpoint_every)
    started = time.time()
    result = task_function(spec["experiment"])(spec, checkpoint, options)
    record = {
        "format": FORMAT,
        "spec_hash": h,
        "spec": spec,
        "status": "done",
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        "seconds": time.time() - started,
        "resumed_from_epoch": checkpoint.resumed_from,
        **provenance(),
        **result,
    }
    write_record(path, record)
    checkpoint.clear()
    return {**jsonable(record), "ran": True}


def _pin_numba():
    """Numba's pool to NUMBA_NUM_THREADS (set by the local scheduler per worker)."""
    wanted = os.environ.get("NUMBA_NUM_THREADS")
    if wanted and wanted.isdigit():
        import numba

        numba.set_num_threads(min(int(wanted), numba.config.NUMBA_NUM_THREADS))


def run_grid(
    specs,
    out,
    *,
    scheduler="none",
    workers=None,
    rerun=False,
    checkpoint_every=None,
    options=None,
    diagnose=(),
    quiet=False,
):
    """Run every spec whose record is missing; return the records in ``specs`` order.

    ``diagnose``: hashes of the specs that also compute the diagnostic tables.
    Raises :class:`GridError` naming the runs that raised (after the others
    finished and were recorded).
    """
    out = pathlib.Path(out)
    options = dict(options or {}, quiet=quiet or scheduler != "none")
    jobs = []
    for spec in specs:
        opts = dict(options, diagnose=spec_hash(spec) in diagnose)
        if rerun or needs_run(read_record(record_path(out, spec)), opts):
            jobs.append((spec, opts))
    recorded = len(specs) - len(jobs)
    print(f"{len(specs)} runs: {recorded} recorded in {out / 'runs'}, {len(jobs)} to run")
    errors = []
    for done, (spec, outcome) in enumerate(
        _dispatch(jobs, out, scheduler, workers, rerun, checkpoint_every), 1
    ):
        if isinstance(outcome, BaseException):
            errors.append((spec, outcome))
            reason = f"{type(outcome).__name__}: {outcome}"
            print(f"[{done}/{len(jobs)}] {describe(spec)}: FAILED ({reason})")
        else:
            print(f"[{done}/{len(jobs)}] {describe(spec)}: {outcome['seconds']:.1f} s")
    if errors:
        lines = [f"  {describe(s)}: {type(e).__name__}: {e}" for s, e in errors]
        raise GridError(f"{len(errors)} of {len(jobs)} runs failed:\n" + "\n".join(lines))
    return [read_record(record_path(out, spec)) for spec in specs]


def _dispatch(jobs, out, scheduler, workers, rerun, checkpoint_every):
    """Yield (spec, record or exception) as runs finish."""
    if scheduler == "none":
        for spec, opts in jobs:
            try:
                yield spec, execute(spec, out, rerun, checkpoint_every, opts)
            except Exception as err:  # noqa: BLE001 - reported per run, raised at the end
                traceback.print_exc()
                yield spec, err
        return
    if not jobs:
        return
    with connect(scheduler, workers) as client:
        from distributed import as_completed

        futures = {
            client.submit(
                execute,
                spec,
                str(out),
                rerun,
                checkpoint_every,
                opts,
                key=f"run-{spec_hash(spec)}",
                pure=False,
            ): spec
            for spec, opts in jobs
        }
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except Exception as err:  # noqa: BLE001
                yield futures[future], err


@contextlib.contextmanager
def connect(scheduler, workers=None):
    """A dask.distributed Client: a LocalCluster of ``workers`` single-threaded
    processes (``"local"``) or the scheduler at an address."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as err:
        raise ImportError(
            f"--scheduler {scheduler} needs dask.distributed: pip install 'rbptk[cluster]' ({err})"
        ) from None
    if scheduler != "local":
        with Client(scheduler) as client:
            yield client
        return
    workers = workers or os.cpu_count() or 1
    pinned = {v: str(max(1, (os.cpu_count() or 1) // workers)) for v in THREAD_VARIABLES}
    # BLAS reads its variables when NumPy loads, so they go in before the worker
    # process starts (the nanny sets them in this process's environment to pass
    # them on, hence the restore below); numba's only inside the worker: changing
    # NUMBA_NUM_THREADS here after numba started its threads makes numba raise.
    blas = {v: n for v, n in pinned.items() if v != "NUMBA_NUM_THREADS"}
    saved = {v: os.environ.get(v) for v in THREAD_VARIABLES}
    try:
        with (
            dask.config.set({"distributed.nanny.pre-spawn-environ": blas}),
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env=pinned,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
    finally:
        for v, value in saved.items():
            if value is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = value
