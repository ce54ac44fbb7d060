namespace GrokLens.Checkpoints.Xai;

/// <summary>
/// Reads what one <c>ckpt-0/tensorNNNNN_000</c> file holds (SPEC §4.1) by interpreting its pickle opcodes: a numpy
/// array (<c>numpy.core.multiarray._reconstruct</c> + BUILD state) or <c>QuantizedWeight8bit</c> whose state holds
/// <c>weight</c> and <c>scales</c> arrays. Nothing in the file is executed; unexpected globals are refused.
/// </summary>
internal static class XaiTensorFile
{
    private static readonly HashSet<string> MultiarrayModules = new(StringComparer.Ordinal) { "numpy.core.multiarray", "numpy._core.multiarray" };
    private static readonly HashSet<string> QuantizedModules = new(StringComparer.Ordinal) { "__main__", "model", "checkpoint" };
    private static readonly HashSet<string> BFloat16Modules = new(StringComparer.Ordinal) { "ml_dtypes", "ml_dtypes._ml_dtypes_ext", "jax.numpy", "jax._src.dtypes" };

    public static bool IsAllowed(PickleGlobal global) =>
        (MultiarrayModules.Contains(global.Module) && global.Name == "_reconstruct")
        || (global.Module == "numpy" && global.Name is "ndarray" or "dtype")
        || (QuantizedModules.Contains(global.Module) && global.Name == "QuantizedWeight8bit")
        || (BFloat16Modules.Contains(global.Module) && global.Name == "bfloat16");

    public static XaiTensor Read(MappedFile file)
    {
        var root = PickleParser.Parse(file, IsAllowed);
        if (root is PickleCall { Callable.Name: "QuantizedWeight8bit" } quantized)
        {
            var state = quantized.State switch
            {
                Dictionary<string, object?> d => d,
                object?[] { Length: 2 } pair when pair[0] is Dictionary<string, object?> d => d, // (dict, slots)
                _ => throw Error(file, "QuantizedWeight8bit without a {weight, scales} state"),
            };
            if (!state.TryGetValue("weight", out var weight) || !state.TryGetValue("scales", out var scales))
                throw Error(file, $"QuantizedWeight8bit state has fields {string.Join(", ", state.Keys)}, expected weight and scales");
            var weightArray = Array(file, weight, "weight");
            var scalesArray = Array(file, scales, "scales");
            if (weightArray.DType != XaiDType.Int8) throw Error(file, $"QuantizedWeight8bit.weight is {weightArray.DType}, expected int8");
            if (scalesArray.DType is XaiDType.UInt16) scalesArray = scalesArray with { DType = XaiDType.BFloat16 };
            if (scalesArray.DType != XaiDType.BFloat16) throw Error(file, $"QuantizedWeight8bit.scales is {scalesArray.DType}, expected bfloat16");
            return new XaiTensor(weightArray, scalesArray);
        }
        return new XaiTensor(Array(file, root, "array"), null);
    }

    private static XaiArray Array(MappedFile file, object? value, string what)
    {
        if (value is not PickleCall { Callable.Name: "_reconstruct", State: object?[] state } || state.Length != 5)
            throw Error(file, $"the {what} is not a pickled numpy array");
        var shape = state[1] is object?[] dims && dims.All(d => d is long n && n >= 0)
            ? dims.Select(d => (long)d!).ToArray()
            : throw Error(file, $"the {what}'s shape is not a tuple of sizes");
        var dtype = DType(file, state[2], what);
        if (state[3] is not false) throw Error(file, $"the {what} is stored in Fortran order; only C order is supported");
        if (state[4] is not PickleBytes data) throw Error(file, $"the {what}'s data is not a bytes payload");
        var array = new XaiArray(dtype, shape, data.Offset, data.Length);
        long expected;
        try
        {
            expected = checked(array.ElementCount * XaiArray.ElementSize(dtype));
        }
        catch (OverflowException)
        {
            throw Error(file, $"the {what}'s shape overflows");
        }
        if (expected != data.Length)
            throw Error(file, $"the {what} has shape [{string.Join(", ", shape)}] of {dtype} ({expected} bytes) but {data.Length} bytes of data");
        return array;
    }

    private static XaiDType DType(MappedFile file, object? value, string what)
    {
        if (value is not PickleCall { Callable: { Module: "numpy", Name: "dtype" } } call || call.Arguments.Length == 0)
            throw Error(file, $"the {what}'s dtype is not a numpy dtype");
        if (call.State is object?[] { Length: > 1 } dtypeState && dtypeState[1] is ">")
            throw Error(file, $"the {what} is big-endian; only little-endian arrays are supported");
        return call.Arguments[0] switch
        {
            "f4" => XaiDType.Float32,
            "f2" => XaiDType.Float16,
            "i1" => XaiDType.Int8,
            "u2" => XaiDType.UInt16,
            "bfloat16" => XaiDType.BFloat16,
            PickleGlobal { Name: "bfloat16" } => XaiDType.BFloat16,
            var other => throw Error(file, $"the {what} has dtype '{other}', which the raw Grok-1 release does not use"),
        };
    }

    private static CheckpointFormatException Error(MappedFile file, string problem) => new(file.Path, null, problem);
}
