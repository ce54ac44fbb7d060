namespace GrokLens.Tokenization;

/// <summary>
/// GPT-2's reversible table from bytes to printable characters, which byte-level BPE tokenizer.json files use to write
/// byte strings: printable Latin-1 bytes stand for themselves, the other 68 bytes for U+0100 onwards, in byte order.
/// </summary>
public static class GptByteTable
{
    public static IReadOnlyDictionary<char, byte> CharToByte { get; } = Build();

    public static IReadOnlyDictionary<byte, char> ByteToChar { get; } = CharToByte.ToDictionary(p => p.Value, p => p.Key);

    private static Dictionary<char, byte> Build()
    {
        static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        var table = new Dictionary<char, byte>();
        int next = 0;
        for (int b = 0; b < 256; b++)
            table[Printable(b) ? (char)b : (char)(256 + next++)] = (byte)b;
        return table;
    }
}
