"""numpy's and scipy's BLAS on one thread: the embedding models' numpy work is many small products, where a BLAS
thread team costs more than it gives, and beside other busy processes far more."""

import logging
import threading

log = logging.getLogger(__name__)

_lock = threading.Lock()
_limited = False


def limit_numpy_blas() -> None:
    """OpenBLAS (numpy's and scipy's) to one thread, once per process; Paddle's own MKL and OpenMP are untouched.

    Measured on 2 cores: ECAPA's features call numpy's BLAS (the mel projection: a few ms), after which OpenBLAS's
    threads spin for ~100 ms on the cores the Paddle forward that follows needs (features + forward ~195 ms, the
    forward alone ~135 ms, ~130 ms with OpenBLAS on one thread). ge2e's LSTM makes ~500 small products per clip;
    each one split over two threads waits at a barrier for the other, which beside busy processes is often off
    its core: ge2e's LSTM took 3.6 s per 5-s clip on two BLAS threads at load average 6, 0.35 s on one.
    """
    global _limited
    with _lock:
        if _limited:
            return
        _limited = True
        try:
            import threadpoolctl
        except ImportError:  # installed with the embedding extra; without it the models are only slower
            log.warning("threadpoolctl is not installed; numpy's BLAS threads may slow the embedding models")
            return
        threadpoolctl.ThreadpoolController().select(internal_api="openblas").limit(limits=1)
