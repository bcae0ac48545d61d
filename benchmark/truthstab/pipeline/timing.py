"""A run's stages, timed and reported on one running display."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

#: What a stage wrapper is: ``stage(name)`` is a context manager around one step.
Stage = Callable[[str], AbstractContextManager]


class StageTimer:
    """Times the pipeline's stages and reports them on one running display."""

    def __init__(self, n_stages: int, echo: Callable[[str], None] | None) -> None:
        self.n_stages = n_stages
        self.echo = echo
        self.timings: dict[str, float] = {}
        self._index = 0

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the step inside as stage ``name``, with a line before and after it on the display."""
        self._index += 1
        if self.echo:
            self.echo(f"[{self._index}/{self.n_stages}] {name} ...")
        start = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - start, 3)
        if self.echo:
            self.echo(f"[{self._index}/{self.n_stages}] {name}: done in {self.timings[name]:.1f} s")


@contextmanager
def no_stage(_name: str) -> Iterator[None]:
    """A stage wrapper that does nothing, for runs that neither time nor report their steps."""
    yield
