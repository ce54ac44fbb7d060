using System.Buffers.Binary;
using System.Text;

namespace GrokLens.Checkpoints.Xai;

/// <summary>
/// Interprets the opcodes of a pickle (protocols 2–5) without executing anything: globals are checked against an
/// allow-list and recorded, calls (REDUCE, NEWOBJ, BUILD) are recorded as <see cref="PickleCall"/> objects, and byte
/// payloads stay in the memory-mapped file as <see cref="PickleBytes"/>. Any other opcode or global is refused.
/// </summary>
internal sealed class PickleParser
{
    private readonly MappedFile file;
    private readonly Func<PickleGlobal, bool> allowGlobal;
    private readonly List<object?> stack = new();
    private readonly Dictionary<long, object?> memo = new();
    private long position;

    private PickleParser(MappedFile file, Func<PickleGlobal, bool> allowGlobal)
    {
        this.file = file;
        this.allowGlobal = allowGlobal;
    }

    /// <summary>Returns the object the pickle builds, as tuples (object?[]), dictionaries, strings, numbers and the records above.</summary>
    public static object? Parse(MappedFile file, Func<PickleGlobal, bool> allowGlobal) => new PickleParser(file, allowGlobal).Run();

    private object? Run()
    {
        while (true)
        {
            long opcodeAt = position;
            byte opcode = Byte();
            switch (opcode)
            {
                case 0x80: Byte(); break;                                          // PROTO n
                case 0x95: Bytes(8); break;                                        // FRAME size (framing is only a hint)
                case 0x2E: return stack.Count == 1 ? stack[0] : throw Error(opcodeAt, "STOP with a malformed stack");
                case 0x28: Push(PickleMark.Instance); break;                       // MARK
                case 0x4E: Push(null); break;                                      // NONE
                case 0x88: Push(true); break;                                      // NEWTRUE
                case 0x89: Push(false); break;                                     // NEWFALSE
                case 0x4B: Push((long)Byte()); break;                              // BININT1
                case 0x4D: Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2))); break; // BININT2
                case 0x4A: Push((long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(4))); break;  // BININT
                case 0x8A: Push(Long1(opcodeAt)); break;                           // LONG1
                case 0x47: Push(BinaryPrimitives.ReadDoubleBigEndian(Bytes(8))); break; // BINFLOAT
                case 0x8C: Push(Text(Byte(), opcodeAt)); break;                    // SHORT_BINUNICODE
                case 0x58: Push(Text(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)), opcodeAt)); break; // BINUNICODE
                case 0x8D: Push(Text(Length8(opcodeAt), opcodeAt)); break;         // BINUNICODE8
                case 0x55: Push(Latin1(Byte(), opcodeAt)); break;                  // SHORT_BINSTRING
                case 0x54: Push(Latin1(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)), opcodeAt)); break; // BINSTRING
                case 0x43: Push(Payload(Byte(), opcodeAt)); break;                 // SHORT_BINBYTES
                case 0x42: Push(Payload(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)), opcodeAt)); break; // BINBYTES
                case 0x8E: Push(Payload(Length8(opcodeAt), opcodeAt)); break;      // BINBYTES8
                case 0x29: Push(Array.Empty<object?>()); break;                    // EMPTY_TUPLE
                case 0x85: Push(new[] { Pop(opcodeAt) }); break;                   // TUPLE1
                case 0x86: { var b = Pop(opcodeAt); var a = Pop(opcodeAt); Push(new[] { a, b }); break; } // TUPLE2
                case 0x87: { var c = Pop(opcodeAt); var b = Pop(opcodeAt); var a = Pop(opcodeAt); Push(new[] { a, b, c }); break; } // TUPLE3
                case 0x74: Push(PopToMark(opcodeAt).ToArray()); break;             // TUPLE
                case 0x7D: Push(new Dictionary<string, object?>(StringComparer.Ordinal)); break; // EMPTY_DICT
                case 0x5D: Push(new List<object?>()); break;                       // EMPTY_LIST
                case 0x73: { var v = Pop(opcodeAt); var k = Pop(opcodeAt); SetItem(Peek(opcodeAt), k, v, opcodeAt); break; } // SETITEM
                case 0x75:                                                         // SETITEMS
                {
                    var items = PopToMark(opcodeAt);
                    if (items.Count % 2 != 0) throw Error(opcodeAt, "SETITEMS with an odd number of items");
                    var target = Peek(opcodeAt);
                    for (int i = 0; i < items.Count; i += 2) SetItem(target, items[i], items[i + 1], opcodeAt);
                    break;
                }
                case 0x61: { var v = Pop(opcodeAt); AsList(Peek(opcodeAt), opcodeAt).Add(v); break; } // APPEND
                case 0x65: { var items = PopToMark(opcodeAt); AsList(Peek(opcodeAt), opcodeAt).AddRange(items); break; } // APPENDS
                case 0x94: memo[memo.Count] = Peek(opcodeAt); break;               // MEMOIZE
                case 0x71: memo[Byte()] = Peek(opcodeAt); break;                   // BINPUT
                case 0x72: memo[BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4))] = Peek(opcodeAt); break; // LONG_BINPUT
                case 0x68: Push(Memo(Byte(), opcodeAt)); break;                    // BINGET
                case 0x6A: Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)), opcodeAt)); break; // LONG_BINGET
                case 0x63: Push(Global(Line(opcodeAt), Line(opcodeAt), opcodeAt)); break; // GLOBAL
                case 0x93:                                                         // STACK_GLOBAL
                {
                    var name = Pop(opcodeAt) as string;
                    var module = Pop(opcodeAt) as string;
                    if (module is null || name is null) throw Error(opcodeAt, "STACK_GLOBAL needs two strings");
                    Push(Global(module, name, opcodeAt));
                    break;
                }
                case 0x52:                                                         // REDUCE
                case 0x81:                                                         // NEWOBJ
                {
                    var arguments = Pop(opcodeAt) as object?[] ?? throw Error(opcodeAt, "a call whose arguments are not a tuple");
                    var callable = Pop(opcodeAt) as PickleGlobal ?? throw Error(opcodeAt, "a call of something that is not an allowed global");
                    Push(new PickleCall(callable, arguments));
                    break;
                }
                case 0x62:                                                         // BUILD
                {
                    var state = Pop(opcodeAt);
                    var target = Peek(opcodeAt) as PickleCall ?? throw Error(opcodeAt, "BUILD on something that is not a recorded object");
                    target.State = state;
                    break;
                }
                default:
                    throw Error(opcodeAt, $"opcode 0x{opcode:X2} is not allowed in a tensor file (only plain data and numpy arrays are read)");
            }
        }
    }

    private PickleGlobal Global(string module, string name, long at)
    {
        var global = new PickleGlobal(module, name);
        return allowGlobal(global) ? global : throw Error(at, $"the pickle refers to '{global}', which is not an expected numpy or Grok-1 type; refusing to read it");
    }

    private void SetItem(object? target, object? key, object? value, long at)
    {
        if (target is not Dictionary<string, object?> dictionary || key is not string text)
            throw Error(at, "SETITEM needs a dictionary with string keys");
        dictionary[text] = value;
    }

    private List<object?> AsList(object? target, long at) => target as List<object?> ?? throw Error(at, "APPEND on something that is not a list");

    private object? Memo(long key, long at) => memo.TryGetValue(key, out var value) ? value : throw Error(at, $"memo entry {key} was never stored");

    private void Push(object? value) => stack.Add(value);

    private object? Peek(long at) => stack.Count > 0 ? stack[^1] : throw Error(at, "stack underflow");

    private object? Pop(long at)
    {
        var value = Peek(at);
        if (value is PickleMark) throw Error(at, "unexpected MARK");
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    private List<object?> PopToMark(long at)
    {
        int mark = stack.FindLastIndex(v => v is PickleMark);
        if (mark < 0) throw Error(at, "no MARK on the stack");
        var items = stack.GetRange(mark + 1, stack.Count - mark - 1);
        stack.RemoveRange(mark, stack.Count - mark);
        return items;
    }

    private long Long1(long at)
    {
        int count = Byte();
        if (count > 8) throw Error(at, $"an integer of {count} bytes is too large");
        var bytes = Bytes(count);
        long value = 0;
        for (int i = count - 1; i >= 0; i--) value = value << 8 | bytes[i];
        if (count is > 0 and < 8 && (bytes[count - 1] & 0x80) != 0) value -= 1L << (8 * count); // two's complement
        return value;
    }

    private long Length8(long at)
    {
        var length = BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8));
        return length <= (ulong)(file.Length - position) ? (long)length : throw Error(at, $"a length of {length} bytes runs past the end of the file");
    }

    private PickleBytes Payload(long length, long at)
    {
        if (length > file.Length - position) throw Error(at, $"a {length}-byte payload runs past the end of the file");
        var payload = new PickleBytes(position, length);
        position += length;
        return payload;
    }

    /// <summary>Longest string accepted: names and dtype codes in a tensor file are a few bytes long.</summary>
    private const long MaxStringBytes = 1 << 20;

    private string Text(long length, long at)
    {
        CheckStringLength(length, at);
        try
        {
            return new UTF8Encoding(false, true).GetString(Bytes((int)length));
        }
        catch (DecoderFallbackException)
        {
            throw Error(at, "a string is not valid UTF-8");
        }
    }

    private string Latin1(long length, long at)
    {
        CheckStringLength(length, at);
        return Encoding.Latin1.GetString(Bytes((int)length));
    }

    private void CheckStringLength(long length, long at)
    {
        if (length > file.Length - position) throw Error(at, $"a {length}-byte string runs past the end of the file");
        if (length > MaxStringBytes) throw Error(at, $"a {length}-byte string is implausibly long (at most {MaxStringBytes} bytes)");
    }

    private string Line(long at)
    {
        var start = position;
        while (position < file.Length && position - start < 256 && file.Span(position, 1)[0] != (byte)'\n') position++;
        if (position >= file.Length || file.Span(position, 1)[0] != (byte)'\n') throw Error(at, "GLOBAL without a newline-terminated name");
        var text = Encoding.ASCII.GetString(file.Span(start, (int)(position - start)));
        position++;
        return text;
    }

    private byte Byte() => Bytes(1)[0];

    private ReadOnlySpan<byte> Bytes(int count)
    {
        if (count > file.Length - position) throw Error(position, "the pickle ends abruptly (the file is truncated)");
        var span = file.Span(position, count);
        position += count;
        return span;
    }

    private CheckpointFormatException Error(long at, string problem) => new(file.Path, null, $"pickle byte {at}: {problem}");
}
