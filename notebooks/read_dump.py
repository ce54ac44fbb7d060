"""Read a GrokLens activation dump (docs/dump-format.md) in Python, with numpy only.

    dump = load_dump("my-dump")              # a dump folder, a zipped dump, or capture's single .safetensors file
    run = dump.runs["run0"]                  # prompt, token_ids, pieces, interventions, hooks
    pattern = run.hooks["blocks.0.attn.hook_pattern"]   # (H, T, T) float32
    per_run = dump.hook("logits")            # {run id: array} over every run holding that hook

It checks what GrokLens' DumpReader checks: manifest format and version, plain file names, every data file's size
and SHA-256, every safetensors header's bounds, and that each tensor has the dtype and shape the manifest lists.
Any problem raises DumpError naming it. When the `safetensors` package is installed it decodes the tensors
(`safetensors.numpy.load_file`); without it the numpy parser below does, from memory-mapped files. A zipped dump is
extracted entry by entry to a temporary folder (counting inflated bytes against a limit) and read from there, so
memory never holds more than the tensors actually used.

    python3 read_dump.py DUMP                prints a summary: runs, tokens, hooks with shapes
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import sys
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np

try:
    import safetensors.numpy as safetensors_numpy
except ImportError:
    safetensors_numpy = None

FORMAT, VERSION, MANIFEST = "groklens-dump", 2, "manifest.json"
MAX_MANIFEST_BYTES, MAX_HEADER_BYTES, MAX_ZIP_BYTES = 64 << 20, 100_000_000, 4 << 30
DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4", "I8": "i1", "U8": "u1"}
SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.safetensors")
RUN_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class DumpError(ValueError):
    """A dump that is malformed, corrupt, hostile or of a newer format version; the message names the problem."""

    def __init__(self, location: str, problem: str):
        super().__init__(f"{location}: {problem}")


@dataclass
class Run:
    id: str
    prompt: str | None
    token_ids: list[int]
    pieces: list[str] | None
    interventions: list[dict]
    hooks: dict[str, np.ndarray]          # hook name -> array (expert indices stay int32)
    entry: dict = field(repr=False)       # the manifest's run entry (hook shapes, dtypes, meanings)


@dataclass
class Dump:
    location: str
    manifest: dict | None                 # None for a single .safetensors file (its metadata is in Run.entry)
    runs: dict[str, Run]
    reductions: dict[str, np.ndarray]     # reductions dumps: "blocks.0.moe.expert_counts", ...

    def hook(self, name: str) -> dict[str, np.ndarray]:
        """One hook's array in every run that holds it: {run id: array}."""
        return {run.id: run.hooks[name] for run in self.runs.values() if name in run.hooks}


def load_dump(path: str, verify_checksums: bool = True) -> Dump:
    """Opens a dump folder, a .zip of one, or a single .safetensors file written by `groklens capture`."""
    location = str(path)
    if os.path.isdir(path):
        return _load_files(location, _FolderFiles(path), verify_checksums)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Dump not found: '{path}' is neither a folder nor a file.")
    if location.lower().endswith(".safetensors"):
        return _load_single_file(location)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise DumpError(location, f"not a zip file ({e})") from None
    folder = tempfile.mkdtemp(prefix="groklens-dump-")
    try:
        with archive:
            _extract(archive, location, folder)
        # Memory-mapped arrays stay valid after their files are removed (POSIX); elsewhere the folder may stay behind.
        return _load_files(location, _FolderFiles(folder), verify_checksums)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_safetensors(data: np.ndarray, location: str, name: str, path: str | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """Every tensor of safetensors bytes (a uint8 array, the file at `path`) after checking the header's bounds; and the metadata."""
    where = f"data file '{name}'"
    if data.size < 8:
        raise DumpError(location, f"{where} is {data.size} bytes, too short for a safetensors header length")
    (header_length,) = struct.unpack("<Q", data[:8].tobytes())
    if header_length > data.size - 8:
        raise DumpError(location, f"{where}: the header length field says {header_length} bytes, but only "
                                  f"{data.size - 8} follow it (truncated, or not safetensors)")
    if header_length > MAX_HEADER_BYTES:
        raise DumpError(location, f"{where}: the header length {header_length} is over the {MAX_HEADER_BYTES}-byte limit")
    try:
        header = json.loads(data[8:8 + header_length].tobytes())
    except ValueError as e:
        raise DumpError(location, f"{where}: the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise DumpError(location, f"{where}: the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    body = data[8 + header_length:]
    spans = []
    for tensor, info in header.items():
        dtype, shape, offsets = _tensor_entry(info)
        if dtype is None:
            raise DumpError(location, f"{where}: tensor '{tensor}' has an invalid header entry {json.dumps(info)[:200]}")
        begin, end = offsets
        size = int(np.prod(shape, dtype=object)) * np.dtype(DTYPES[dtype]).itemsize
        if not begin <= end <= body.size:
            raise DumpError(location, f"{where}: tensor '{tensor}' data_offsets [{begin}, {end}] reach outside the "
                                      f"{body.size}-byte data section (the file may be truncated)")
        if end - begin != size:
            raise DumpError(location, f"{where}: tensor '{tensor}' spans {end - begin} bytes, {dtype} {shape} needs {size}")
        spans.append((begin, end, tensor))
    spans.sort()
    for (_, end, first), (begin, _, second) in zip(spans, spans[1:]):
        if begin < end:
            raise DumpError(location, f"{where}: tensors '{first}' and '{second}' overlap")
    if safetensors_numpy is not None and path is not None and "BF16" not in {info["dtype"] for info in header.values()}:
        return safetensors_numpy.load_file(path), metadata
    arrays = {}
    for tensor, info in header.items():
        begin, end = info["data_offsets"]
        array = body[begin:end].view(DTYPES[info["dtype"]])
        if info["dtype"] == "BF16":  # numpy has no bfloat16: widen to float32 (the upper half of its bits).
            array = (array.astype("<u4") << 16).view("<f4")
        arrays[tensor] = array.reshape(info["shape"])
    return arrays, metadata


def _tensor_entry(info):
    """(dtype, shape, offsets) of a header entry, or (None, None, None) when it is not well-formed."""
    def naturals(value, count=None):
        return (isinstance(value, list) and (count is None or len(value) == count)
                and all(type(v) is int and v >= 0 for v in value))
    if (isinstance(info, dict) and info.get("dtype") in DTYPES and naturals(info.get("shape"))
            and naturals(info.get("data_offsets"), 2)):
        return info["dtype"], info["shape"], info["data_offsets"]
    return None, None, None


class _FolderFiles:
    """The files of a dump folder; data files are memory-mapped, so only what is used is read."""

    def __init__(self, folder):
        self.folder = folder

    def names(self):
        return os.listdir(self.folder)

    def size(self, name):
        return os.path.getsize(os.path.join(self.folder, name))

    def path(self, name):
        return os.path.join(self.folder, name)

    def read(self, name):
        path = os.path.join(self.folder, name)
        return np.memmap(path, np.uint8, mode="r") if os.path.getsize(path) else np.zeros(0, np.uint8)


def _extract(archive: zipfile.ZipFile, location: str, folder: str):
    """Copies every entry to the folder in chunks: flat names only, inflated bytes counted against MAX_ZIP_BYTES."""
    names = archive.namelist()
    for name in names:
        if name != MANIFEST and not SAFE_FILE_NAME.fullmatch(name):
            raise DumpError(location, f"zip entry '{name}' is not part of a dump (only manifest.json and plain "
                                      "*.safetensors names; paths such as '../x' are refused)")
    if len(set(names)) != len(names):
        raise DumpError(location, "a zip entry appears twice")
    inflated = 0
    try:
        for name in names:
            with archive.open(name) as entry, open(os.path.join(folder, name), "wb") as out:
                while chunk := entry.read(1 << 20):
                    inflated += len(chunk)
                    if inflated > MAX_ZIP_BYTES:
                        raise DumpError(location, f"the zip inflates to more than the {MAX_ZIP_BYTES}-byte limit")
                    out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise DumpError(location, f"the zip is corrupt ({e})") from None


def _load_files(location: str, files, verify_checksums: bool) -> Dump:
    manifest = _read_manifest(location, files)
    present = set(files.names())
    data = {}
    for entry in manifest["files"]:
        name = entry["name"]
        if not isinstance(name, str) or not SAFE_FILE_NAME.fullmatch(name):
            raise DumpError(location, f"the manifest names data file '{name}', which is not a plain file name ending "
                                      "in .safetensors (paths such as '../x' are refused)")
        if name in data:
            raise DumpError(location, f"the manifest lists data file '{name}' twice")
        if name not in present:
            raise DumpError(location, f"data file '{name}' is missing")
        if files.size(name) != entry["bytes"]:
            raise DumpError(location, f"data file '{name}' is {files.size(name)} bytes, the manifest says "
                                      f"{entry['bytes']} (truncated or changed)")
        if verify_checksums:
            actual = _sha256(files.path(name))
            if actual != str(entry["sha256"]).lower():
                raise DumpError(location, f"data file '{name}' fails its checksum: SHA-256 {actual}, "
                                          f"the manifest says {entry['sha256']} (the file is corrupt or was changed)")
        raw = files.read(name)
        data[name] = read_safetensors(raw, location, name, files.path(name))[0]

    def tensor(entry, what):
        arrays = data.get(entry["file"])
        if arrays is None:
            raise DumpError(location, f"{what} is in '{entry['file']}', which is not among the manifest's files")
        if entry["tensor"] not in arrays:
            raise DumpError(location, f"{what}: tensor '{entry['tensor']}' is not in '{entry['file']}'")
        array = arrays[entry["tensor"]]
        expected = np.float32 if entry["dtype"] == "BF16" else DTYPES.get(entry["dtype"], "V")  # BF16 is widened
        if array.dtype != np.dtype(expected) or list(array.shape) != entry["shape"]:
            raise DumpError(location, f"{what}: stored as {array.dtype} {list(array.shape)}, the manifest says "
                                      f"{entry['dtype']} {entry['shape']}")
        return array

    vocab = manifest["model"]["config"]["vocab_size"]
    runs = {}
    for entry in manifest["runs"]:
        run_id, ids = entry["id"], entry["token_ids"]
        if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id) or run_id in runs:
            raise DumpError(location, f"run id '{run_id}' is not valid or appears twice")
        if not ids or not all(type(i) is int and 0 <= i < vocab for i in ids):
            raise DumpError(location, f"run '{run_id}' has no tokens or a token id outside the vocabulary 0…{vocab - 1}")
        if entry.get("pieces") is not None and len(entry["pieces"]) != len(ids):
            raise DumpError(location, f"run '{run_id}' has {len(entry['pieces'])} pieces for {len(ids)} tokens")
        hooks = {}
        for hook in entry["hooks"]:
            if hook["name"] in hooks:
                raise DumpError(location, f"run '{run_id}' lists hook '{hook['name']}' twice")
            hooks[hook["name"]] = tensor(hook, f"run '{run_id}' hook '{hook['name']}'")
        runs[run_id] = Run(run_id, entry.get("prompt"), ids, entry.get("pieces"), entry.get("interventions") or [],
                           hooks, entry)
    reductions = {r["name"]: tensor(r, f"reduction '{r['name']}'") for r in (manifest.get("reductions") or {}).get("tensors", [])}
    return Dump(location, manifest, runs, reductions)


def _sha256(path: str) -> str:
    """SHA-256 of a file, read in chunks: neither a copy of it nor its pages stay in the process's memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


def _read_manifest(location: str, files) -> dict:
    if MANIFEST not in files.names():
        raise DumpError(location, "no manifest.json: not a GrokLens dump")
    if files.size(MANIFEST) > MAX_MANIFEST_BYTES:
        raise DumpError(location, f"manifest.json is {files.size(MANIFEST)} bytes, over the {MAX_MANIFEST_BYTES}-byte limit")
    try:
        manifest = json.loads(files.read(MANIFEST).tobytes().decode("utf-8"))
    except ValueError as e:
        raise DumpError(location, f"manifest.json is not valid JSON ({e})") from None
    except RecursionError:
        raise DumpError(location, "manifest.json nests arrays or objects too deeply to be a dump manifest") from None
    if not isinstance(manifest, dict):
        raise DumpError(location, "manifest.json must hold a JSON object")
    if manifest.get("format") != FORMAT:
        raise DumpError(location, f"manifest.json's \"format\" is {manifest.get('format')!r}, expected '{FORMAT}'")
    version = manifest.get("format_version")
    if type(version) is not int or version < 1:
        raise DumpError(location, f"manifest.json's \"format_version\" {version!r} is not valid")
    if version > VERSION:
        raise DumpError(location, f"the dump has format version {version}, newer than this reader knows (up to {VERSION}); "
                                  "update read_dump.py")
    if manifest.get("kind") not in ("activations", "reductions"):
        raise DumpError(location, f"unknown dump kind {manifest.get('kind')!r} (expected activations or reductions)")
    _check_schema(location, manifest)
    return manifest


def _check_schema(location: str, manifest: dict):
    """Every manifest field the reader uses is there, so a malformed manifest is a DumpError, not a traceback."""
    def require(entry, names, where, kind=dict):
        if not isinstance(entry, kind) or (names and any(name not in entry for name in names)):
            needs = f"a JSON object with {', '.join(names)}" if names else f"a JSON {kind.__name__}"
            raise DumpError(location, f"manifest.json does not match the schema: {where} must be {needs}")

    tensor_fields = ["name", "file", "tensor", "dtype", "shape"]
    require(manifest, ["model", "runs", "files"], "the manifest")
    require(manifest["model"], ["config"], "\"model\"")
    require(manifest["model"]["config"], ["vocab_size"], "\"model.config\"")
    require(manifest["model"]["config"]["vocab_size"], [], "\"vocab_size\"", int)
    for key in ("runs", "files"):
        require(manifest[key], [], f"\"{key}\"", list)
    for run in manifest["runs"]:
        require(run, ["id", "token_ids", "hooks"], "each run")
        require(run["token_ids"], [], "\"token_ids\"", list)
        require(run["hooks"], [], "\"hooks\"", list)
        for hook in run["hooks"]:
            require(hook, tensor_fields, "each hook")
    for entry in manifest["files"]:
        require(entry, ["name", "bytes", "sha256"], "each file")
    reductions = manifest.get("reductions")
    if reductions is not None or manifest["kind"] == "reductions":
        require(reductions, ["tensors"], "\"reductions\"")
        require(reductions["tensors"], [], "\"reductions.tensors\"", list)
        for entry in reductions["tensors"]:
            require(entry, tensor_fields, "each reduction tensor")


def _load_single_file(location: str) -> Dump:
    """`groklens capture -o x.safetensors`: one tensor per hook, the run's details in the metadata."""
    raw = np.memmap(location, np.uint8, mode="r") if os.path.getsize(location) else np.zeros(0, np.uint8)
    arrays, metadata = read_safetensors(raw, location, os.path.basename(location))
    ids = [int(i) for i in metadata.get("token_ids", "").split(",") if i]
    run = Run("run0", metadata.get("prompt"), ids, None, json.loads(metadata.get("interventions", "[]")), arrays, metadata)
    return Dump(location, None, {"run0": run}, {})


def summary(dump: Dump) -> str:
    """A few lines: the model, then per run its tokens and hooks with dtype and shape."""
    lines = [f"{dump.location}: {len(dump.runs)} run(s)"]
    if dump.manifest is not None:
        model = dump.manifest["model"]
        lines[0] += f", {dump.manifest['kind']} of model {model['name']} (format version {dump.manifest['format_version']})"
    for run in dump.runs.values():
        shown = run.pieces if run.pieces is not None else run.token_ids
        lines.append(f"{run.id}: {len(run.token_ids)} tokens {shown[:12]}{' …' if len(shown) > 12 else ''}")
        if run.prompt is not None:
            lines.append(f"  prompt: {run.prompt!r}")
        for name, array in run.hooks.items():
            lines.append(f"  {name:40} {str(array.dtype):8} {list(array.shape)}")
    for name, array in dump.reductions.items():
        lines.append(f"reduction {name:30} {str(array.dtype):8} {list(array.shape)}")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 read_dump.py DUMP   (a dump folder, a .zip dump, or a .safetensors file)")
    try:
        print(summary(load_dump(sys.argv[1])))
    except (DumpError, OSError) as e:
        sys.exit(f"error: {e}")
