"""torch_common.py: what the PyTorch peers of `make bench` (torch_ae.py, case-vae.py) share: the
thread settings that must come before torch loads, the full Fashion-MNIST images, and the first
lines of the report on stdout."""
import gzip
import os
import struct
import sys


def threads_from_argv(default=1):
    """--threads N, read before torch is imported: see set_threads_before_import."""
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return str(default)


def set_threads_before_import():
    """Debian's torch (and numpy) do their matrix products in OpenBLAS, whose own thread pool
    reads OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS) once, when the library loads, and ignores
    torch.set_num_threads: without this, "1 thread" still multiplies on every core, and 2
    threads start 4 on a 2-core machine, which runs ten times slower."""
    n = threads_from_argv()
    os.environ["OMP_NUM_THREADS"] = n
    os.environ["OPENBLAS_NUM_THREADS"] = n


def read_idx(path, program):
    """An IDX file of unsigned bytes (gzip or raw) as a numpy array."""
    import numpy as np
    with open(path, "rb") as raw:
        magic = raw.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        zero, kind, ndim = struct.unpack(">HBB", f.read(4))
        if zero != 0 or kind != 0x08:
            sys.exit(f"{program}: {path} is not an IDX file of unsigned bytes")
        dims = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def load_fashion_mnist(folder, program):
    """The training and test images of the full Fashion-MNIST in folder, as float32 arrays
    (N, 28, 28) in [0, 1]; the program stops with a message when they are missing or not full."""
    import numpy as np
    images = []
    for name in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"):
        paths = [os.path.join(folder, name + ext) for ext in (".gz", "")]
        found = [p for p in paths if os.path.exists(p)]
        if not found:
            sys.exit(f"{program}: {folder} has no {name}(.gz); run `make data` or set FASHION_MNIST_DIR")
        images.append(read_idx(found[0], program).astype(np.float32) / 255.0)
    train, test = images
    if len(train) < 60000 or len(test) < 10000:
        sys.exit(f"{program}: {folder} holds {len(train)} training and {len(test)} test images, "
                 "not the full Fashion-MNIST; run `make data` or set FASHION_MNIST_DIR")
    return train, test


def blas_kernels():
    """Which kernels the OpenBLAS this process loaded runs (its matrix products): the same library
    may run AVX-512 kernels on one processor and 256-bit ones on another, which halves its peak on
    a core whose 512-bit multiply-adds are full width. "unknown" when no OpenBLAS is loaded."""
    import ctypes
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "/libopenblas" in line})
        for path in paths:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return f"OpenBLAS ({lib.openblas_get_corename().decode()} kernels)"
    except (OSError, AttributeError):
        pass
    return "unknown"


def report(torch, model, name, epochs, seconds_total):
    """The report's first lines, `key<TAB>value`, in the keys bench/run.sh reads."""
    print(f"implementation\tPyTorch {torch.__version__}")
    print(f"model\t{name}")
    print(f"params\t{sum(p.numel() for p in model.parameters())}")
    print(f"threads\t{torch.get_num_threads()}")
    print(f"blas\t{blas_kernels()}")
    print(f"epochs\t{epochs}")
    print(f"seconds_total\t{seconds_total:.4f}")
