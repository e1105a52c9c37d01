"""The decompression limit: Python's zlib gunzipping every object, on N processes.

Landing must at least decompress every object once, so this is the physical limit it is
compared with (issue 16: landing within 2x of decompressing the same objects on the cores
used). Objects are independent, so they are spread over N worker processes; nothing is
parsed or kept. Plain (non-gzip) objects are read only.

Usage: python benchmarks/decompress.py ARCHIVE_DIR [PROCESSES]  (prints one JSON line)
"""

from __future__ import annotations

import json
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def decompressed_bytes(path: str) -> int:
    data = Path(path).read_bytes()
    if data[:2] != b"\x1f\x8b":
        return len(data)
    total, stream = 0, zlib.decompressobj(wbits=47)
    while data:
        total += len(stream.decompress(data))
        data = stream.unused_data if stream.eof else b""  # a multi-member gzip: go on
        if data:
            stream = zlib.decompressobj(wbits=47)
    return total


def decompress_all(archive: Path, processes: int) -> dict:
    # largest first, so that no worker is left with one big object at the end
    paths = sorted(
        (str(p) for p in archive.rglob("*") if p.is_file() and p.stat().st_size),
        key=lambda p: -Path(p).stat().st_size,
    )
    began = time.perf_counter()
    if processes == 1:
        total = sum(map(decompressed_bytes, paths))
    else:
        with ProcessPoolExecutor(processes) as pool:
            total = sum(pool.map(decompressed_bytes, paths, chunksize=4))
    return {
        "objects": len(paths),
        "processes": processes,
        "decompressed_bytes": total,
        "seconds": round(time.perf_counter() - began, 3),
    }


if __name__ == "__main__":
    processes = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    print(json.dumps(decompress_all(Path(sys.argv[1]), processes)))
