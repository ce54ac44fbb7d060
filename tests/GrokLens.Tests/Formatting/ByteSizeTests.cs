using GrokLens.Formatting;

namespace GrokLens.Tests.Formatting;

/// <summary>One way to write and read byte sizes: binary units, labelled KiB, MiB, GiB, TiB.</summary>
public sealed class ByteSizeTests
{
    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1024, "1.00 KiB")]
    [InlineData(1536, "1.50 KiB")]
    [InlineData(35_422_208, "33.8 MiB")]          // grok-tiny's float32 weights
    [InlineData(200L << 20, "200 MiB")]
    [InlineData((1L << 20) - 1, "1.00 MiB")]      // rounds up into the next unit, never "1024 KiB"
    [InlineData(12L << 30, "12.0 GiB")]
    [InlineData(1_262_739_283_968, "1.15 TiB")]   // Grok-1 in float32
    [InlineData(-2048, "-2.00 KiB")]
    public void FormatsInBinaryUnits(long bytes, string text) => Assert.Equal(text, ByteSize.Format(bytes));

    [Theory]
    [InlineData("4096", 4096)]
    [InlineData("64KiB", 64L << 10)]
    [InlineData("512 MiB", 512L << 20)]
    [InlineData("1.5GiB", 3L << 29)]
    [InlineData("2tib", 2L << 40)]
    [InlineData("8G", 8L << 30)]
    [InlineData("100B", 100)]
    public void ParsesBinaryUnits(string text, long bytes) => Assert.Equal(bytes, ByteSize.Parse(text));

    [Theory]
    [InlineData("512MB", "Sizes use binary units: write KiB, MiB or GiB")]
    [InlineData("1 GB", "Sizes use binary units")]
    [InlineData("lots", "Give bytes or a number with KiB, MiB, GiB or TiB")]
    [InlineData("0", "at least 1 byte")]
    [InlineData("9999999TiB", "too large")]
    public void RefusesWhatItCannotReadWithTheReason(string text, string reason) =>
        Assert.Contains(reason, Assert.Throws<FormatException>(() => ByteSize.Parse(text)).Message);

    [Fact]
    public void FormatReadsBackWithinItsRounding()
    {
        foreach (long bytes in new[] { 1L << 10, 3_000_000L, 7L << 30, 5_000_000_000_000L })
            Assert.Equal(bytes, ByteSize.Parse(ByteSize.Format(bytes).Replace(" ", "")), bytes / 200.0);
    }
}
