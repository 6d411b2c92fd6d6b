"""One way to reach a Dask cluster: an existing scheduler, or a local cluster of worker
processes (one thread each) that lives only as long as the block that needs it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A `dask.distributed.Client`; a cluster it started is closed on exit, one it was given
    (`scheduler`) is left running."""
    from dask.distributed import Client, LocalCluster

    cluster = (
        None
        if scheduler
        else LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
    )
    client = Client(scheduler) if scheduler else Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
