"""A small experiment for the runner's tests: a seeded random walk of ``epochs``
steps with checkpoints, optionally slow, logging each start and finish."""

import os
import pathlib
import time

import numpy as np


def run(spec, checkpoint, options):
    cfg = spec["config"]
    log = pathlib.Path(cfg["log"])
    with log.open("a") as f:
        f.write(f"start {spec['method']} {spec['seed']} {os.getpid()}\n")
    saved = checkpoint.load()
    start = (0.0, np.random.default_rng(spec["seed"]), [])
    first, (x, rng, curve) = (saved[0] + 1, saved[1]) if saved else (0, start)
    for epoch in range(first, cfg["epochs"]):
        x += rng.standard_normal() * (1 + len(spec["method"]))
        curve.append(x)
        time.sleep(cfg.get("sleep", 0.0))
        checkpoint.maybe_save(epoch, (x, rng, curve))
    with log.open("a") as f:
        f.write(f"done {spec['method']} {spec['seed']} {os.getpid()}\n")
    return {"metrics": {"x": x, "omp": os.environ.get("OMP_NUM_THREADS")}, "curves": {"x": curve}}
