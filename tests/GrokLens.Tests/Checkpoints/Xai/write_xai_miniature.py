"""Writes a miniature of xAI's raw Grok-1 release (SPEC §4.1-4.3) for the GrokLens tests.

Usage: python3 write_xai_miniature.py FOLDER SEED
FOLDER must hold config.json (GrokLens/Hugging Face keys). Writes FOLDER/ckpt-0/tensor{i:05d}_000, pickled the way
xAI's checkpoint.py stores them: numpy float32 arrays, or a QuantizedWeight8bit dataclass (defined in __main__, as
in xAI's run) holding an int8 weight [.., in, out] and bfloat16 scales [.., S, out]. numpy has no bfloat16, so the
scales are uint16 arrays of their bit patterns. Also writes FOLDER/expected/{canonical name}.f32: the dequantised
weight bf16(q*s) in PyTorch layout [out, in], float32 little-endian, for a bit-for-bit comparison.
This is an implementation independent of GrokLens's own writer (GrokLens.Tools.SyntheticXaiCheckpoint), kept so the
reader is checked against files GrokLens did not write.
"""
import json
import os
import pickle
import sys
from dataclasses import dataclass

import numpy as np


@dataclass
class QuantizedWeight8bit:
    weight: np.ndarray
    scales: np.ndarray


def bf16_bits(x):
    """float32 -> bfloat16 bit patterns, round to nearest even (as JAX's astype(bfloat16))."""
    b = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)


def bf16_value(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def main():
    folder, seed = sys.argv[1], int(sys.argv[2])
    c = json.load(open(os.path.join(folder, "config.json")))
    rng = np.random.default_rng(seed)
    d, layers, experts = c["hidden_size"], c["num_hidden_layers"], c["num_local_experts"]
    q_out = c["num_attention_heads"] * c["head_dim"]
    kv_out = c["num_key_value_heads"] * c["head_dim"]
    f, vocab = c["moe_intermediate_size"], c["vocab_size"]
    ckpt = os.path.join(folder, "ckpt-0")
    expected = os.path.join(folder, "expected")
    os.makedirs(ckpt)
    os.makedirs(expected)

    def save(index, obj):
        with open(os.path.join(ckpt, "tensor%05d_000" % index), "wb") as fh:
            pickle.dump(obj, fh)

    def expect(name, array):
        np.ascontiguousarray(array, dtype="<f4").tofile(os.path.join(expected, name + ".f32"))

    def plain(index, name, shape, scale, transpose):
        a = (rng.standard_normal(shape) * scale).astype(np.float32)
        if scale == 0:
            a = (1 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        save(index, a)
        expect(name, np.swapaxes(a, -1, -2) if transpose else a)

    def quantized(index, name, shape, blocks, scale):
        q = rng.integers(-128, 128, size=shape, dtype=np.int8)
        scale_shape = shape[:-2] + (blocks, shape[-1])
        s = bf16_bits(rng.standard_normal(scale_shape).astype(np.float32) * scale)
        save(index, QuantizedWeight8bit(weight=q, scales=s))
        rows = shape[-2]
        w = q.astype(np.float32).reshape(shape[:-2] + (blocks, rows // blocks, shape[-1]))
        w = (w * bf16_value(s)[..., :, None, :]).reshape(shape)
        expect(name, np.swapaxes(bf16_value(bf16_bits(w)), -1, -2))

    plain(0, "transformer.in_out_embed.weight", (vocab, d), d ** -0.5, False)
    plain(1, "transformer.rms_norm.weight", (d,), 0, False)
    # Layers in lexicographic order of their decimal index (SPEC §4.2).
    for rank, layer in enumerate(sorted(range(layers), key=str)):
        p = "transformer.decoder_layer.%d." % layer
        base = 2 + 12 * rank
        quantized(base + 0, p + "moe.linear.weight", (experts, d, f), 1, 0.02 * d ** -0.5)
        quantized(base + 1, p + "moe.linear_1.weight", (experts, f, d), 8, 0.02 * f ** -0.5)
        quantized(base + 2, p + "moe.linear_v.weight", (experts, d, f), 1, 0.02 * d ** -0.5)
        quantized(base + 3, p + "multi_head_attention.key.weight", (d, kv_out), 1, 0.02 * d ** -0.5)
        quantized(base + 4, p + "multi_head_attention.linear.weight", (q_out, d), 8, 0.02 * q_out ** -0.5)
        quantized(base + 5, p + "multi_head_attention.query.weight", (d, q_out), 1, 0.02 * d ** -0.5)
        quantized(base + 6, p + "multi_head_attention.value.weight", (d, kv_out), 1, 0.02 * d ** -0.5)
        for slot, norm in enumerate(["rms_norm", "rms_norm_1", "rms_norm_2", "rms_norm_3"]):
            plain(base + 7 + slot, p + norm + ".weight", (d,), 0, False)
        plain(base + 11, p + "router.weight", (d, experts), d ** -0.5, True)


if __name__ == "__main__":
    main()
