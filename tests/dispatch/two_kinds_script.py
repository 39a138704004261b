"""Run as a process by test_kinds: an ImageAdder and a runner of another kind, killed mid-batch."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dispatch_jobs as dj

from tiepoint.dispatch import ImageAdder

if __name__ == "__main__":
    db_url, address, images, others = sys.argv[1:5]
    cfg = dj.adder_config(db_url, kind="scheduler", address=address)
    ia = ImageAdder(cfg, job=dj.tiny_job)
    echo = dj.echo_runner_class()(cfg)
    ia.add_images(images, "json")
    echo.submit(sorted(str(p.resolve()) for p in Path(others).glob("*.json")))
    print("queued", flush=True)
    ia.wait()
    echo.wait()
