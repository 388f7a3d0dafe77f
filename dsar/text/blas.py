"""The spaCy model's matrix products on numpy's BLAS, held to one thread.

Imported when a model loads (thinc is imported then anyway); a module of its own so that the
model's operations pickle by name into spaCy's worker processes.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from thinc.api import NumpyOps


@cache
def numpy_blas() -> Any:
    """numpy's BLAS libraries, as threadpoolctl holds them (None: none, or no threadpoolctl)."""
    try:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
    except ImportError:
        return None
    blas = ThreadpoolController().select(user_api="blas")
    return blas if blas.lib_controllers else None


class OneThreadOps(NumpyOps):  # type: ignore[misc]
    """thinc's numpy operations, each matrix product on numpy's BLAS held to one thread."""

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **{**options, "use_blis": False})

    def gemm(self, x: Any, y: Any, **options: Any) -> Any:
        blas = numpy_blas()
        if blas is None:  # pragma: no cover - a BLAS was found when the model loaded
            return super().gemm(x, y, **options)
        with blas.limit(limits=1):
            return super().gemm(x, y, **options)


def use_one_thread_blas(nlp: Any) -> bool:
    """Every component's model of `nlp` multiplies with `OneThreadOps`; False (nothing
    changed) where no BLAS can be held to one thread."""
    if numpy_blas() is None:
        return False
    ops = OneThreadOps()
    for name in nlp.pipe_names:
        model = getattr(nlp.get_pipe(name), "model", None)
        if model is not None:
            for node in model.walk():
                node.ops = ops
    return True
