using System.IO.Compression;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using GrokLens.Loading;
using GrokLens.Tokenization;
using Microsoft.ML.Tokenizers;

namespace GrokLens.Tests.Tokenization;

/// <summary>
/// Grok-2's tokenizer readers. Grok-2's own vocabulary file is not available here (docs/grok-2.md), so the readers and the
/// merging are checked on a public vocabulary written in both of Grok-2's file forms: OpenAI's cl100k_base (from the
/// Microsoft.ML.Tokenizers.Data.Cl100kBase package), against its public vectors and its reference tokenizer; Grok-2's
/// own rules (the V1 digit split, allowed special tokens) on a small vocabulary.
/// </summary>
public class Grok2TokenizerTests
{
    private const string Cl100kPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private static readonly Dictionary<string, int> Cl100kSpecials = new()
    {
        ["<|endoftext|>"] = 100257, ["<|fim_prefix|>"] = 100258, ["<|fim_middle|>"] = 100259, ["<|fim_suffix|>"] = 100260,
        ["<|endofprompt|>"] = 100276,
    };

    private static readonly string[] Texts =
    [
        "hello world",
        "The answer to life the universe and everything is of course 42.",
        "  leading spaces,\ttabs\nand\n\nnewlines\r\n",
        "def f(x):\n    return x**2 + 1234567  # 'quoted' don't",
        "Grüße aus Köln — naïve café, 東京, Привет, emoji 🙂🧪",
        "<|endoftext|> a special token in text",
    ];

    /// <summary>cl100k_base's ranks, from the data package's deflated file: "Capacity: N", then one base64 token per line in rank order.</summary>
    private static List<(byte[] Bytes, int Rank)> Cl100kRanks()
    {
        var assembly = Assembly.Load("Microsoft.ML.Tokenizers.Data.Cl100kBase");
        using var resource = assembly.GetManifestResourceStream("cl100k_base.tiktoken.deflate")!;
        using var inflated = new DeflateStream(resource, CompressionMode.Decompress);
        using var reader = new StreamReader(inflated);
        var ranks = new List<(byte[], int)>();
        while (reader.ReadLine() is { Length: > 0 } line)
        {
            if (line.StartsWith("Capacity:", StringComparison.Ordinal)) continue;
            var parts = line.Split(' ');
            ranks.Add((Convert.FromBase64String(parts[0]), parts.Length > 1 ? int.Parse(parts[1]) : ranks.Count));
        }
        return ranks;
    }

    private static JsonArray TokenList(IEnumerable<(byte[] Bytes, int Id)> tokens) =>
        new(tokens.Select(t => (JsonNode)new JsonObject { ["bytes"] = new JsonArray(t.Bytes.Select(b => (JsonNode)(int)b).ToArray()), ["token"] = t.Id }).ToArray());

    private static void WriteXai(string path, IEnumerable<(byte[], int)> regular, Dictionary<string, int> specials, string? pattern,
        IEnumerable<string>? allowed = null)
    {
        var root = new JsonObject
        {
            ["regular_tokens"] = TokenList(regular),
            ["special_tokens"] = TokenList(specials.Select(s => (Encoding.UTF8.GetBytes(s.Key), s.Value))),
            ["word_split"] = "V1",
        };
        if (pattern is not null) root["pat_str"] = pattern;
        if (allowed is not null)
            root["default_allowed_special"] = new JsonArray(allowed.Select(a => (JsonNode)new JsonArray(Encoding.UTF8.GetBytes(a).Select(b => (JsonNode)(int)b).ToArray())).ToArray());
        File.WriteAllText(path, root.ToJsonString());
    }

    /// <summary>A tokenizer.json the way conversions from tiktoken files are made: GPT-2 byte characters, merges in rank order.</summary>
    private static void WriteHuggingFace(string path, List<(byte[] Bytes, int Rank)> ranks, Dictionary<string, int> specials, string pattern)
    {
        string Chars(byte[] bytes) => string.Concat(bytes.Select(b => GptByteTable.ByteToChar[b]));
        var rankOf = ranks.ToDictionary(r => Convert.ToBase64String(r.Bytes), r => r.Rank);
        var merges = new JsonArray();
        foreach (var (bytes, rank) in ranks.Where(r => r.Bytes.Length > 1).OrderBy(r => r.Rank))
        {
            var (left, right) = LastMerge(bytes, rank, rankOf);
            merges.Add(Chars(left) + " " + Chars(right));
        }
        var vocab = new JsonObject();
        foreach (var (bytes, rank) in ranks) vocab[Chars(bytes)] = rank;
        var root = new JsonObject
        {
            ["added_tokens"] = new JsonArray(specials.Select(s => (JsonNode)new JsonObject { ["id"] = s.Value, ["content"] = s.Key, ["special"] = true }).ToArray()),
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = pattern }, ["behavior"] = "Isolated" },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = false }),
            },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = merges },
        };
        File.WriteAllText(path, root.ToJsonString());
    }

    /// <summary>The two parts whose merge makes a token: BPE on its bytes with only lower ranks, until two parts remain.</summary>
    private static (byte[] Left, byte[] Right) LastMerge(byte[] token, int rank, Dictionary<string, int> rankOf)
    {
        var parts = token.Select(b => new[] { b }).ToList();
        while (parts.Count > 2)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i + 1 < parts.Count; i++)
                if (rankOf.TryGetValue(Convert.ToBase64String([.. parts[i], .. parts[i + 1]]), out int r) && r < rank && r < bestRank)
                    (best, bestRank) = (i, r);
            parts[best] = [.. parts[best], .. parts[best + 1]];
            parts.RemoveAt(best + 1);
        }
        return (parts[0], parts[1]);
    }

    [Fact]
    public void BothFileFormsOfAPublicVocabularyEncodeAsItsReferenceTokenizer()
    {
        using var folder = new TempDirectory();
        var ranks = Cl100kRanks();
        var xai = Path.Combine(folder.Path, Grok2Tokenizer.XaiFileName);
        var huggingFace = Path.Combine(folder.Path, Grok2Tokenizer.HuggingFaceFileName);
        WriteXai(xai, ranks, Cl100kSpecials, Cl100kPattern, allowed: ["<|endoftext|>"]);
        WriteHuggingFace(huggingFace, ranks, Cl100kSpecials, Cl100kPattern);
        var reference = TiktokenTokenizer.CreateForEncoding("cl100k_base");

        foreach (var tokenizer in new[] { Grok2Tokenizer.LoadXai(xai), Grok2Tokenizer.LoadHuggingFace(huggingFace) })
        {
            // tiktoken's README: cl100k_base encodes "hello world" as [15339, 1917].
            Assert.Equal([15339, 1917], tokenizer.Encode("hello world"));
            Assert.Equal(100277, tokenizer.VocabSize);
            foreach (var text in Texts)
            {
                Assert.Equal(reference.EncodeToIds(text), tokenizer.Encode(text));
                Assert.Equal(text.Replace("<|endoftext|>", ""), tokenizer.Decode(tokenizer.Encode(text)).Replace("<|endoftext|>", ""));
            }
            Assert.Equal(" world", tokenizer.Piece(1917));
            Assert.Equal("␣world", tokenizer.DisplayPiece(1917));
        }
    }

    /// <summary>A small vocabulary in xAI's form with Grok-2's special tokens: every byte, some merges, "20" and "<|separator|>".</summary>
    private static Grok2Tokenizer SmallGrok2(string folder)
    {
        var regular = Enumerable.Range(0, 256).Select(b => (new[] { (byte)b }, b)).ToList();
        foreach (var (text, id) in new[] { ("20", 256), ("he", 257), ("ll", 258), ("hell", 259), ("hello", 260), (" w", 261) })
            regular.Add((Encoding.UTF8.GetBytes(text), id));
        var specials = new Dictionary<string, int> { ["<|pad|>"] = 300, ["<|separator|>"] = 301, ["<|eos|>"] = 302, ["<|secret|>"] = 303 };
        var path = Path.Combine(folder, Grok2Tokenizer.XaiFileName);
        WriteXai(path, regular, specials, pattern: null);
        return Grok2Tokenizer.LoadXai(path);
    }

    [Fact]
    public void TheV1WordSplitKeepsEveryDigitAloneAndAllowedSpecialTokensAreMatchedWhole()
    {
        using var folder = new TempDirectory();
        var tokenizer = SmallGrok2(folder.Path);
        // "20" is a token, but V1 splits digits one by one, so "2024" is four byte tokens.
        Assert.Equal(['2', '0', '2', '4'], tokenizer.Encode("2024").Select(id => (char)id));
        Assert.Equal([260, 261, (int)'o', (int)'r', (int)'l', (int)'d'], tokenizer.Encode("hello world"));
        Assert.Equal([260, 301, 260], tokenizer.Encode("hello<|separator|>hello"));
        // A special token the readers do not allow in text stays text.
        Assert.DoesNotContain(303, tokenizer.Encode("<|secret|>"));
        Assert.Equal(302, tokenizer.EosId);
        Assert.Equal(300, tokenizer.PadId);
        Assert.Equal("hello world", tokenizer.Decode(tokenizer.Encode("hello world")));
        Assert.Equal("<0xC3>", tokenizer.Piece(0xC3));
    }

    [Theory]
    [InlineData("{\"regular_tokens\": 5}", "regular_tokens")]
    [InlineData("{\"regular_tokens\": [], \"special_tokens\": [], \"word_split\": \"V9\"}", "unknown word_split")]
    [InlineData("{\"regular_tokens\": [{\"bytes\": [300], \"token\": 0}], \"special_tokens\": [], \"word_split\": \"V1\"}", "0…255")]
    [InlineData("{not json", "not valid JSON")]
    public void MalformedFilesAreRefusedWithTheReason(string json, string expected)
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, Grok2Tokenizer.XaiFileName);
        File.WriteAllText(path, json);
        var error = Assert.Throws<InvalidDataException>(() => Grok2Tokenizer.LoadXai(path));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void AGrok2ModelTakesItsOwnTokenizerAndNeverGrok1s()
    {
        using var folder = new TempDirectory();
        foreach (var file in Directory.GetFiles(TestModels.Grok2FixtureDirectory))
            File.Copy(file, Path.Combine(folder.Path, Path.GetFileName(file)));
        File.Delete(Path.Combine(folder.Path, "model.gguf"));
        using (var bare = ModelLoader.Load(folder.Path)) Assert.Null(bare.Tokenizer);
        SmallGrok2(folder.Path);
        using var model = ModelLoader.Load(folder.Path);
        Assert.IsType<Grok2Tokenizer>(model.Tokenizer);
        Assert.Equal([260], model.Encode("hello"));
    }
}
