using System.Buffers.Binary;
using System.Text;

namespace GrokLens.Tools;

/// <summary>
/// Writes the pickles of xAI's raw release (SPEC §4.1) as Python's pickle protocol 4 does for numpy arrays: an array is
/// <c>numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')</c> built with (1, shape, dtype, False, bytes), and a
/// quantised weight is <c>__main__.QuantizedWeight8bit()</c> built with {weight, scales}. Python with numpy reads them
/// (with a QuantizedWeight8bit class in __main__), and so does GrokLens's pickle reader. Payloads are streamed.
/// </summary>
public sealed class PickleWriter(Stream stream)
{
    /// <summary>A numpy array: dtype code ('f4', 'i1', 'u2'), C-order shape, and a callback writing its bytes.</summary>
    public sealed record NumpyArray(string DType, long[] Shape, Action<Stream> WriteData)
    {
        public long ByteLength => Shape.Aggregate(1L, (a, b) => a * b) * DType switch { "f4" => 4, "i1" => 1, "u2" => 2, _ => throw new ArgumentException($"dtype {DType}") };
    }

    public void WriteArray(NumpyArray array)
    {
        Begin();
        Array(array);
        stream.WriteByte((byte)'.'); // STOP
    }

    /// <summary>xAI's QuantizedWeight8bit: int8 weight [.., in, out] and bfloat16 scales (as uint16 bit patterns).</summary>
    public void WriteQuantized(NumpyArray weight, NumpyArray scales)
    {
        Begin();
        Global("__main__", "QuantizedWeight8bit");
        stream.WriteByte((byte)')'); // EMPTY_TUPLE
        stream.WriteByte(0x81); // NEWOBJ
        stream.WriteByte((byte)'}'); // EMPTY_DICT
        stream.WriteByte((byte)'('); // MARK
        Text("weight");
        Array(weight);
        Text("scales");
        Array(scales);
        stream.WriteByte((byte)'u'); // SETITEMS
        stream.WriteByte((byte)'b'); // BUILD
        stream.WriteByte((byte)'.'); // STOP
    }

    private void Begin()
    {
        stream.WriteByte(0x80); // PROTO 4
        stream.WriteByte(4);
    }

    private void Array(NumpyArray array)
    {
        Global("numpy.core.multiarray", "_reconstruct");
        Global("numpy", "ndarray");
        Int(0);
        stream.WriteByte(0x85); // TUPLE1
        stream.WriteByte((byte)'C'); // SHORT_BINBYTES b'b'
        stream.WriteByte(1);
        stream.WriteByte((byte)'b');
        stream.WriteByte(0x87); // TUPLE3
        stream.WriteByte((byte)'R'); // REDUCE
        stream.WriteByte((byte)'('); // MARK: the state (version, shape, dtype, fortran, data)
        Int(1);
        stream.WriteByte((byte)'(');
        foreach (var dim in array.Shape) Int(dim);
        stream.WriteByte((byte)'t'); // TUPLE
        DType(array.DType);
        stream.WriteByte(0x89); // NEWFALSE: C order
        Bytes(array.ByteLength, array.WriteData);
        stream.WriteByte((byte)'t');
        stream.WriteByte((byte)'b'); // BUILD
    }

    private void DType(string code)
    {
        Global("numpy", "dtype");
        Text(code);
        stream.WriteByte(0x89);
        stream.WriteByte(0x88);
        stream.WriteByte(0x87);
        stream.WriteByte((byte)'R');
        stream.WriteByte((byte)'('); // state: (3, byte order, None, None, None, -1, -1, 0)
        Int(3);
        Text(code == "i1" ? "|" : "<");
        stream.WriteByte((byte)'N');
        stream.WriteByte((byte)'N');
        stream.WriteByte((byte)'N');
        Int(-1);
        Int(-1);
        Int(0);
        stream.WriteByte((byte)'t');
        stream.WriteByte((byte)'b');
    }

    private void Global(string module, string name)
    {
        Text(module);
        Text(name);
        stream.WriteByte(0x93); // STACK_GLOBAL
    }

    private void Text(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        stream.WriteByte(0x8C); // SHORT_BINUNICODE
        stream.WriteByte(checked((byte)bytes.Length));
        stream.Write(bytes);
    }

    private void Int(long value)
    {
        Span<byte> bytes = stackalloc byte[4];
        stream.WriteByte((byte)'J'); // BININT
        BinaryPrimitives.WriteInt32LittleEndian(bytes, checked((int)value));
        stream.Write(bytes);
    }

    private void Bytes(long length, Action<Stream> writeData)
    {
        Span<byte> header = stackalloc byte[8];
        stream.WriteByte(0x8E); // BINBYTES8
        BinaryPrimitives.WriteInt64LittleEndian(header, length);
        stream.Write(header);
        long start = stream.Position;
        writeData(stream);
        if (stream.Position - start != length) throw new InvalidOperationException($"Wrote {stream.Position - start} payload bytes, expected {length}.");
    }
}
