"""Reads xAI raw-release pickles with Python's own pickle + numpy, independently of GrokLens's reader.

Usage: python3 read_xai_pickles.py CKPT_FOLDER OUT_FOLDER
For every tensorNNNNN_000 in CKPT_FOLDER writes OUT_FOLDER/tensorNNNNN.f32 (float32 little-endian, the stored JAX
layout): a plain array as float32, a QuantizedWeight8bit dequantised as bf16(q*s) with S row blocks (SPEC 4.3).
"""
import os
import pickle
import sys
from dataclasses import dataclass

import numpy as np


@dataclass
class QuantizedWeight8bit:
    weight: np.ndarray
    scales: np.ndarray


def bf16_round(x):
    b = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return (((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16).astype(np.uint32).view(np.float32)


def main():
    folder, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as fh:
            obj = pickle.load(fh)
        if isinstance(obj, QuantizedWeight8bit):
            q, s = obj.weight, obj.scales
            assert q.dtype == np.int8 and s.dtype == np.uint16, (q.dtype, s.dtype)
            scales = (s.astype(np.uint32) << 16).view(np.float32)
            rows, blocks = q.shape[-2], s.shape[-2]
            w = q.astype(np.float32).reshape(q.shape[:-2] + (blocks, rows // blocks, q.shape[-1]))
            array = bf16_round(w * scales[..., :, None, :]).reshape(q.shape)
        else:
            assert obj.dtype == np.float32, obj.dtype
            array = obj
        np.ascontiguousarray(array, dtype="<f4").tofile(os.path.join(out, name.split("_")[0] + ".f32"))


if __name__ == "__main__":
    main()
