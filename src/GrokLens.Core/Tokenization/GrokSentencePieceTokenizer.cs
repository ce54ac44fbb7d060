using System.Text;
using Microsoft.ML.Tokenizers;

namespace GrokLens.Tokenization;

/// <summary>
/// Grok-1's SentencePiece BPE tokenizer (<c>tokenizer.model</c>), reproducing <c>sentencepiece</c>'s
/// <c>SentencePieceProcessor.encode</c>/<c>decode</c> as used by xAI's runner (no BOS/EOS added).
/// </summary>
/// <remarks>
/// The file is loaded and validated with Microsoft.ML.Tokenizers (<see cref="SentencePieceTokenizer.Create"/>), and
/// its vocabulary and special ids are cross-checked against it. Encoding and decoding are done here, because
/// Microsoft.ML.Tokenizers 2.0.1 differs from sentencepiece on this model: it does not match user-defined symbols
/// such as <c>&lt;|separator|&gt;</c> or "\n\n" as single pieces, breaks ties between equal-score merges from the
/// right instead of the left (so "  two" gives ▁▁▁|two instead of ▁▁|▁two), and its Decode drops user-defined
/// pieces (digits and newlines vanish). The algorithm below follows sentencepiece's bpe_model.cc,
/// normalizer.cc and sentencepiece_processor.cc. Instances are immutable and thread-safe.
/// </remarks>
public sealed class GrokSentencePieceTokenizer : ITokenizer
{
    private const char SpaceSymbol = '\u2581'; // ▁

    private readonly string[] _pieces;
    private readonly float[] _scores;
    private readonly PieceType[] _types;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _mergeable; // NORMAL, USER_DEFINED, UNUSED
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _reserved;  // CONTROL, UNKNOWN, BYTE
    private readonly Dictionary<char, string[]> _userDefinedByFirstChar; // longest first
    private readonly int[] _byteIds = new int[256];
    private readonly Dictionary<int, byte> _byteValues = [];
    private readonly bool _addDummyPrefix;
    private readonly bool _escapeWhitespaces;
    private readonly bool _byteFallback;
    private readonly string _unkSurface;
    private readonly bool _canSplitAtWordStarts;

    private GrokSentencePieceTokenizer(string modelPath, SentencePieceModelFile model, SentencePieceTokenizer ml)
    {
        ModelPath = modelPath;
        _pieces = model.Pieces;
        _scores = model.Scores;
        _types = model.Types;
        _addDummyPrefix = ml.AddDummyPrefix;
        _escapeWhitespaces = ml.EscapeWhiteSpaces;
        _byteFallback = ml.ByteFallback;
        _unkSurface = model.UnkSurface;
        UnkId = ml.UnknownId;
        BosId = IsControl(ml.BeginningOfSentenceId) ? ml.BeginningOfSentenceId : null;
        EosId = IsControl(ml.EndOfSentenceId) ? ml.EndOfSentenceId : null;
        PadId = model.PadId >= 0 && model.PadId < _pieces.Length ? model.PadId : 0;

        _canSplitAtWordStarts = true;
        var mergeable = new Dictionary<string, int>(StringComparer.Ordinal);
        var reserved = new Dictionary<string, int>(StringComparer.Ordinal);
        var userDefined = new Dictionary<char, List<string>>();
        Array.Fill(_byteIds, -1);
        for (int id = 0; id < _pieces.Length; id++)
        {
            string piece = _pieces[id];
            var type = _types[id];
            bool isMergeable = type is PieceType.Normal or PieceType.UserDefined or PieceType.Unused;
            if (!(isMergeable ? mergeable : reserved).TryAdd(piece, id))
                throw new InvalidDataException($"Piece '{piece}' (id {id}) is defined twice in '{modelPath}'.");
            if (isMergeable && ContainsWordStart(piece)) _canSplitAtWordStarts = false;
            if (type == PieceType.UserDefined && piece.Length > 0)
            {
                if (!userDefined.TryGetValue(piece[0], out var list)) userDefined[piece[0]] = list = [];
                list.Add(piece);
            }
            if (type == PieceType.Byte)
            {
                if (piece.Length != 6 || !piece.StartsWith("<0x", StringComparison.Ordinal) || piece[5] != '>' ||
                    !byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out byte b))
                    throw new InvalidDataException($"Byte piece '{piece}' (id {id}) in '{modelPath}' is not of the form <0xHH>.");
                _byteIds[b] = id;
                _byteValues[id] = b;
            }
        }
        if (_byteFallback && Array.IndexOf(_byteIds, -1) >= 0)
            throw new InvalidDataException($"'{modelPath}' enables byte fallback but lacks some of the 256 byte pieces.");

        _mergeable = mergeable.GetAlternateLookup<ReadOnlySpan<char>>();
        _reserved = reserved.GetAlternateLookup<ReadOnlySpan<char>>();
        _userDefinedByFirstChar = userDefined.ToDictionary(
            kv => kv.Key, kv => kv.Value.OrderByDescending(p => p.Length).ToArray());
    }

    /// <summary>Full path of the loaded <c>tokenizer.model</c>.</summary>
    public string ModelPath { get; }

    /// <inheritdoc />
    public int VocabSize => _pieces.Length;

    /// <inheritdoc />
    public int? BosId { get; }

    /// <inheritdoc />
    public int? EosId { get; }

    /// <summary>The model's pad_id (0 for Grok-1, "[PAD]"); 0 if the model defines none.</summary>
    public int PadId { get; }

    /// <summary>The unknown-piece id (3, "[UNK]", for Grok-1).</summary>
    public int UnkId { get; }

    /// <summary>Largest tokenizer.model read (Grok-1's is 2.2 MB): a bigger file, or a link to a device, is refused, not read.</summary>
    public const long MaxModelFileBytes = 16L << 20;

    /// <summary>Loads a SentencePiece BPE <c>tokenizer.model</c>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a SentencePiece model, or uses features this class does not implement.</exception>
    public static GrokSentencePieceTokenizer Load(string tokenizerModelPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tokenizerModelPath);
        string path = Path.GetFullPath(tokenizerModelPath);
        if (!File.Exists(path))
            throw new FileNotFoundException($"SentencePiece tokenizer model not found: '{path}'.", path);

        byte[] bytes = GrokLens.Files.BoundedFile.ReadAllBytes(path, MaxModelFileBytes, "SentencePiece tokenizer model");
        SentencePieceModelFile model;
        try
        {
            model = SentencePieceModelFile.Parse(bytes);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{path}' is not a valid SentencePiece model: {e.Message}", e);
        }
        if (model.Pieces.Length == 0)
            throw new InvalidDataException($"'{path}' is not a valid SentencePiece model: it contains no pieces.");

        SentencePieceTokenizer ml;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            ml = SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"'{path}' could not be loaded as a SentencePiece model by Microsoft.ML.Tokenizers: {e.Message}", e);
        }

        string? unsupported =
            model.ModelType != 2 ? $"model_type {model.ModelType} (only BPE = 2 is supported)" :
            model.PrecompiledCharsMapLength != 0 ? $"normalization rules ('{model.NormalizerName}'; only identity is supported)" :
            model.RemoveExtraWhitespaces ? "remove_extra_whitespaces = true" :
            model.TreatWhitespaceAsSuffix ? "treat_whitespace_as_suffix = true" :
            null;
        if (unsupported is not null)
            throw new InvalidDataException($"'{path}' uses {unsupported}, which GrokSentencePieceTokenizer does not implement.");

        // Cross-check our reading of the file against Microsoft.ML.Tokenizers'.
        if (ml.Vocabulary.Count != model.Pieces.Length || ml.BeginningOfSentenceId != model.BosId ||
            ml.EndOfSentenceId != model.EosId || ml.UnknownId != model.UnkId || ml.ByteFallback != model.ByteFallback ||
            ml.AddDummyPrefix != model.AddDummyPrefix || ml.EscapeWhiteSpaces != model.EscapeWhitespaces)
            throw new InvalidDataException($"'{path}': the SentencePiece model reader and Microsoft.ML.Tokenizers disagree about the vocabulary or special ids.");

        return new GrokSentencePieceTokenizer(path, model, ml);
    }

    /// <summary>Loads the repository's default tokenizer (see <see cref="TokenizerLocator.FindDefaultModelPath"/>).</summary>
    public static GrokSentencePieceTokenizer LoadDefault() => Load(TokenizerLocator.FindDefaultModelPath());

    /// <inheritdoc />
    public IReadOnlyList<int> Encode(string text) => Encode(text, allowed: null);

    /// <summary>
    /// Encodes with the vocabulary restricted to the ids <paramref name="allowed"/> accepts, as sentencepiece does after
    /// <c>SetVocabulary</c> (bpe_model.cc): merges run over the whole vocabulary, then every resulting piece that is not
    /// allowed is split back into the two pieces it was merged from, recursively, until each part is allowed or is a
    /// single character or user-defined symbol; a user-defined symbol that is not allowed (sentencepiece never restricts
    /// those) falls back to its characters. A character that is still not allowed becomes the UTF-8 byte pieces of its
    /// text ("▁" as a space, the dummy prefix dropped), so byte pieces are the last resort (they must be allowed). Unlike sentencepiece, which remembers one split per
    /// piece string for the whole call, each piece is split the way it was actually merged at its position.
    /// </summary>
    /// <param name="allowed">Which Grok-1 ids may be output; null for no restriction.</param>
    public IReadOnlyList<int> Encode(string text, Func<int, bool>? allowed)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) return [];
        string normalized = Normalize(text);
        var ids = new List<int>(normalized.Length / 3 + 4);
        // BPE merges only form vocabulary pieces, so a boundary no piece spans is never crossed by a merge, and the
        // segments on either side can be merged independently with the same result. When no piece has "▁" right after
        // another character (true for Grok-1: split_by_whitespace, no suffix whitespace), every "▁" that follows a
        // non-"▁" character is such a boundary. This keeps the merge queue small on long texts.
        int segmentStart = 0;
        for (int i = 1; i <= normalized.Length; i++)
        {
            if (i < normalized.Length && !(_canSplitAtWordStarts && normalized[i] == SpaceSymbol && normalized[i - 1] != SpaceSymbol))
                continue;
            var merged = SplitAndMerge(normalized, segmentStart, i - segmentStart);
            foreach (int root in merged.Roots)
            {
                if (allowed is null) AppendIds(normalized.AsSpan(merged.Start[root], merged.Length[root]), ids);
                else Resegment(normalized, merged, root, allowed, ids);
            }
            segmentStart = i;
        }
        return ids;
    }

    /// <summary>Appends the ids of a merged piece, split back along its merges where a piece is not allowed.</summary>
    private void Resegment(string s, MergeTree tree, int node, Func<int, bool> allowed, List<int> ids)
    {
        var piece = s.AsSpan(tree.Start[node], tree.Length[node]);
        bool found = _reserved.TryGetValue(piece, out int id) || _mergeable.TryGetValue(piece, out id);
        if (found && allowed(id) && (id != UnkId || !_byteFallback)) { ids.Add(id); return; }
        if (tree.Left[node] >= 0)
        {
            Resegment(s, tree, tree.Left[node], allowed, ids);
            Resegment(s, tree, tree.Right[node], allowed, ids);
            return;
        }
        // A leaf is one character, or a user-defined symbol (e.g. a run of newlines): that one falls back to its
        // characters, each as a piece if allowed.
        for (int i = 0; i < piece.Length;)
        {
            int width = char.IsHighSurrogate(piece[i]) && i + 1 < piece.Length && char.IsLowSurrogate(piece[i + 1]) ? 2 : 1;
            AppendAllowedOrBytes(piece.Slice(i, width), tree.Start[node] + i, allowed, ids);
            i += width;
        }
    }

    /// <summary>
    /// The piece's id if allowed, else the byte pieces of its text: "▁" is a space there, and the dummy prefix (a "▁"
    /// at position 0 of the normalized text) is no text at all.
    /// </summary>
    private void AppendAllowedOrBytes(ReadOnlySpan<char> piece, int position, Func<int, bool> allowed, List<int> ids)
    {
        if ((_reserved.TryGetValue(piece, out int id) || _mergeable.TryGetValue(piece, out id)) && allowed(id) && (id != UnkId || !_byteFallback))
        {
            ids.Add(id);
            return;
        }
        int skip = _addDummyPrefix && position == 0 && piece.Length > 0 && piece[0] == SpaceSymbol ? 1 : 0;
        AppendBytes(piece[skip..].ToString().Replace(SpaceSymbol, ' '), ids);
    }

    private static bool ContainsWordStart(string piece)
    {
        for (int k = 1; k < piece.Length; k++)
            if (piece[k] == SpaceSymbol && piece[k - 1] != SpaceSymbol) return true;
        return false;
    }

    /// <inheritdoc />
    public IReadOnlyList<TokenPiece> EncodeWithPieces(string text)
    {
        var ids = Encode(text);
        var result = new TokenPiece[ids.Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = new TokenPiece(ids[i], _pieces[ids[i]], DisplayPiece(ids[i]));
        return result;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, VocabSize).</exception>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var text = new StringBuilder();
        var pendingBytes = new List<byte>();
        bool atStart = true; // no text piece yet: a leading "▁" there is the dummy prefix
        foreach (int id in ids)
        {
            CheckId(id);
            var type = _types[id];
            if (type == PieceType.Byte)
            {
                pendingBytes.Add(_byteValues[id]);
                atStart = false;
                continue;
            }
            FlushBytes(text, pendingBytes);
            if (type == PieceType.Control) continue; // [PAD], [BOS], [EOS] are invisible
            if (type == PieceType.Unknown) { text.Append(_unkSurface); continue; }

            ReadOnlySpan<char> piece = _pieces[id];
            if (atStart && _addDummyPrefix && piece.Length > 0 && piece[0] == SpaceSymbol)
                piece = piece[1..]; // the dummy prefix added by the normalizer
            atStart = false;
            foreach (char c in piece) text.Append(c == SpaceSymbol ? ' ' : c);
        }
        FlushBytes(text, pendingBytes);
        return text.ToString();
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The id is outside [0, VocabSize).</exception>
    public string Piece(int id)
    {
        CheckId(id);
        return _pieces[id];
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The id is outside [0, VocabSize).</exception>
    public string DisplayPiece(int id)
    {
        CheckId(id);
        string piece = _pieces[id];
        if (_types[id] is PieceType.Byte or PieceType.Control or PieceType.Unknown) return piece;
        return VisiblePiece(piece);
    }

    /// <summary>
    /// A raw piece with its whitespace and control characters shown as symbols (↵ ⇥ ␍ ␣ ␡, control pictures), e.g. for
    /// pieces stored in a dump and shown without their tokenizer.
    /// </summary>
    public static string VisiblePiece(string piece)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < piece.Length; i++)
        {
            char c = piece[i];
            string? shown = c switch
            {
                '\n' => "↵",
                '\t' => "⇥",
                '\r' => "␍",
                ' ' => "␣",
                '\u007F' => "␡",
                < ' ' => ((char)(0x2400 + c)).ToString(),
                _ => null,
            };
            if (shown is null) { sb?.Append(c); continue; }
            sb ??= new StringBuilder(piece, 0, i, piece.Length + 4);
            sb.Append(shown);
        }
        return sb?.ToString() ?? piece;
    }

    /// <summary>The id of a raw piece (e.g. "▁world", "&lt;0x0A&gt;", "[BOS]"), or null if it is not in the vocabulary.</summary>
    public int? PieceToId(string piece)
    {
        ArgumentNullException.ThrowIfNull(piece);
        if (_reserved.TryGetValue(piece, out int id) || _mergeable.TryGetValue(piece, out id)) return id;
        return null;
    }

    private bool IsControl(int id) => id >= 0 && id < _pieces.Length && _types[id] == PieceType.Control;

    private void CheckId(int id)
    {
        if ((uint)id >= (uint)_pieces.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is outside the vocabulary [0, {_pieces.Length}).");
    }

    /// <summary>sentencepiece's identity normalizer: dummy prefix "▁", spaces escaped to "▁", nothing else.</summary>
    private string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length + 1);
        if (_addDummyPrefix) sb.Append(SpaceSymbol);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == ' ' && _escapeWhitespaces) c = SpaceSymbol;
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb.Append(c).Append(text[++i]);
                continue;
            }
            else if (char.IsSurrogate(c)) c = '\uFFFD'; // lone surrogate: not encodable as UTF-8
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>
    /// The merges of one segment: nodes 0 … n−1 are the initial symbols, each later node the merge of its
    /// <see cref="Left"/> and <see cref="Right"/> nodes (−1 for initial symbols); <see cref="Roots"/> are the final
    /// pieces in text order.
    /// </summary>
    private sealed class MergeTree(int capacity)
    {
        public readonly List<int> Start = new(capacity);
        public readonly List<int> Length = new(capacity);
        public readonly List<int> Left = new(capacity);
        public readonly List<int> Right = new(capacity);
        public readonly List<int> Roots = [];

        public int Add(int start, int length, int left, int right)
        {
            Start.Add(start);
            Length.Add(length);
            Left.Add(left);
            Right.Add(right);
            return Start.Count - 1;
        }
    }

    /// <summary>
    /// sentencepiece BPE (bpe_model.cc Model::Encode): split into characters, user-defined symbols matched
    /// longest-first as frozen units; then repeatedly merge the adjacent pair whose concatenation is a piece with
    /// the highest score, the leftmost pair winning ties. Every merge is recorded (for <see cref="Resegment"/>).
    /// </summary>
    private MergeTree SplitAndMerge(string s, int offset, int count)
    {
        var tree = new MergeTree(2 * count);
        var frozen = new List<bool>(count);
        int end = offset + count;
        for (int i = offset; i < end;)
        {
            int len = MatchUserDefined(s, i, end);
            bool isUserDefined = len > 0;
            if (!isUserDefined) len = char.IsHighSurrogate(s[i]) && i + 1 < end && char.IsLowSurrogate(s[i + 1]) ? 2 : 1;
            tree.Add(i, len, -1, -1);
            frozen.Add(isUserDefined);
            i += len;
        }

        int n = tree.Start.Count;
        var prev = new int[n];
        var next = new int[n];
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
        var len2 = tree.Length.ToArray();
        var node = Enumerable.Range(0, n).ToArray(); // symbol → its current node in the tree

        var agenda = new PriorityQueue<(int Left, int Right, int Size), (float NegScore, int Left)>();
        void MaybeAdd(int left, int right)
        {
            if (left < 0 || right < 0 || frozen[left] || frozen[right]) return;
            int size = len2[left] + len2[right];
            if (!_mergeable.TryGetValue(s.AsSpan(tree.Start[left], size), out int id)) return;
            agenda.Enqueue((left, right, size), (-_scores[id], left));
        }

        for (int i = 1; i < n; i++) MaybeAdd(i - 1, i);
        while (agenda.TryDequeue(out var top, out _))
        {
            if (len2[top.Left] == 0 || len2[top.Right] == 0 || len2[top.Left] + len2[top.Right] != top.Size) continue; // stale
            node[top.Left] = tree.Add(tree.Start[top.Left], top.Size, node[top.Left], node[top.Right]);
            len2[top.Left] = top.Size;
            len2[top.Right] = 0;
            next[top.Left] = next[top.Right];
            if (next[top.Right] >= 0) prev[next[top.Right]] = top.Left;
            MaybeAdd(prev[top.Left], top.Left);
            MaybeAdd(top.Left, next[top.Left]);
        }

        for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) tree.Roots.Add(node[i]);
        return tree;
    }

    private int MatchUserDefined(string s, int i, int end)
    {
        if (!_userDefinedByFirstChar.TryGetValue(s[i], out var candidates)) return 0;
        foreach (string piece in candidates)
            if (s.AsSpan(i, end - i).StartsWith(piece, StringComparison.Ordinal)) return piece.Length;
        return 0;
    }

    /// <summary>Piece → id as sentencepiece's PieceToId; unknown pieces fall back to their UTF-8 bytes.</summary>
    private void AppendIds(ReadOnlySpan<char> piece, List<int> ids)
    {
        if (_reserved.TryGetValue(piece, out int id) || _mergeable.TryGetValue(piece, out id))
        {
            if (id != UnkId || !_byteFallback) { ids.Add(id); return; }
        }
        AppendBytes(piece, ids);
    }

    /// <summary>The byte pieces of a piece's UTF-8 text (UNK when the model has no byte fallback).</summary>
    private void AppendBytes(ReadOnlySpan<char> piece, List<int> ids)
    {
        if (!_byteFallback) { ids.Add(UnkId); return; }
        Span<byte> utf8 = piece.Length <= 256 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(piece.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(piece.Length)];
        int count = Encoding.UTF8.GetBytes(piece, utf8);
        foreach (byte b in utf8[..count]) ids.Add(_byteIds[b]);
    }

    private static void FlushBytes(StringBuilder text, List<byte> bytes)
    {
        if (bytes.Count == 0) return;
        text.Append(Encoding.UTF8.GetString(bytes.ToArray())); // invalid sequences become U+FFFD
        bytes.Clear();
    }
}
