using GrokLens.Tokenization;

namespace GrokLens.Tests.Tokenization;

public class TokenizerFilesAndIdsTests
{
    [Fact]
    public void LocatorFindsRepositoryTokenizerFromBinFolder()
    {
        string path = TokenizerLocator.FindDefaultModelPath();
        Assert.True(File.Exists(path));
        Assert.EndsWith(Path.Combine("models", "grok1-tokenizer", "tokenizer.model"), path);
        Assert.Equal(2_229_219, new FileInfo(path).Length);
    }

    [Fact]
    public void LocatorExplainsWhereItLooked()
    {
        string dir = Directory.CreateTempSubdirectory("groklens-locator-").FullName;
        try
        {
            var e = Assert.Throws<FileNotFoundException>(() => TokenizerLocator.FindDefaultModelPath(dir));
            Assert.Contains(dir, e.Message);
            Assert.Contains(TokenizerLocator.DefaultRelativePath, e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MissingFileGivesFileNotFoundWithPath()
    {
        string path = Path.Combine(Path.GetTempPath(), "groklens-no-such-dir", "tokenizer.model");
        var e = Assert.Throws<FileNotFoundException>(() => GrokSentencePieceTokenizer.Load(path));
        Assert.Equal(path, e.FileName);
        Assert.Contains(path, e.Message);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x0A, 0xFF, 0x01 })]                  // truncated length-delimited field
    [InlineData(new byte[] { 0x50, 0x4B, 0x03, 0x04, 0x14, 0x00 })] // a zip header
    public void MalformedFileGivesInvalidDataWithPath(byte[] content)
    {
        string path = Path.Combine(Path.GetTempPath(), $"groklens-bad-{Guid.NewGuid():N}.model");
        File.WriteAllBytes(path, content);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => GrokSentencePieceTokenizer.Load(path));
            Assert.Contains(path, e.Message);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("1,2,3", new[] { 1, 2, 3 })]
    [InlineData(" 422 , 3033,356 ", new[] { 422, 3033, 356 })]
    [InlineData("[0, 131071]", new[] { 0, 131071 })]
    [InlineData("7", new[] { 7 })]
    public void ParseTokenIdsAcceptsLists(string text, int[] expected)
        => Assert.Equal(expected, TokenIds.ParseTokenIds(text, 131072));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("[]")]
    [InlineData("1,,2")]
    [InlineData("1,2,")]
    [InlineData("1,two,3")]
    [InlineData("1.5")]
    [InlineData("99999999999999999999999")]
    public void ParseTokenIdsRejectsMalformedLists(string text)
        => Assert.Throws<FormatException>(() => TokenIds.ParseTokenIds(text, 131072));

    [Theory]
    [InlineData("-1")]
    [InlineData("1,131072")]
    [InlineData("5000000000")]
    public void ParseTokenIdsRejectsOutOfRangeIds(string text)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TokenIds.ParseTokenIds(text, 131072));
        Assert.Contains("[0, 131072)", e.Message);
    }

    [Fact]
    public void ParseTokenIdsNamesTheBadEntry()
    {
        var e = Assert.Throws<FormatException>(() => TokenIds.ParseTokenIds("1,x2,3", 10));
        Assert.Contains("#2", e.Message);
        Assert.Contains("x2", e.Message);
    }
}
