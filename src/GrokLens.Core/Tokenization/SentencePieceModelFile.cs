using System.Text;

namespace GrokLens.Tokenization;

/// <summary>Piece types of sentencepiece_model.proto (<c>ModelProto.SentencePiece.Type</c>).</summary>
internal enum PieceType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>
/// Minimal reader of a SentencePiece <c>ModelProto</c> (protobuf wire format): pieces with score and type, plus the
/// trainer/normalizer fields the encoder needs. Microsoft.ML.Tokenizers does not expose scores or piece types,
/// and those decide the BPE merge order and the handling of user-defined symbols.
/// </summary>
internal sealed class SentencePieceModelFile
{
    public required string[] Pieces { get; init; }
    public required float[] Scores { get; init; }
    public required PieceType[] Types { get; init; }

    // TrainerSpec (field 2 of ModelProto)
    public int ModelType { get; private set; } = 1; // UNIGRAM=1 (proto default), BPE=2
    public bool TreatWhitespaceAsSuffix { get; private set; }
    public bool ByteFallback { get; private set; }
    public int UnkId { get; private set; }
    public int BosId { get; private set; } = 1;
    public int EosId { get; private set; } = 2;
    public int PadId { get; private set; } = -1;
    public string UnkSurface { get; private set; } = " \u2047 ";

    // NormalizerSpec (field 3 of ModelProto)
    public string NormalizerName { get; private set; } = "";
    public int PrecompiledCharsMapLength { get; private set; }
    public bool AddDummyPrefix { get; private set; } = true;
    public bool RemoveExtraWhitespaces { get; private set; } = true;
    public bool EscapeWhitespaces { get; private set; } = true;

    /// <exception cref="InvalidDataException">The bytes are not a well-formed ModelProto.</exception>
    public static SentencePieceModelFile Parse(ReadOnlySpan<byte> data)
    {
        var pieces = new List<string>();
        var scores = new List<float>();
        var types = new List<PieceType>();
        ReadOnlySpan<byte> trainer = default, normalizer = default;

        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            var (field, wire) = r.ReadTag();
            if (field == 1 && wire == 2)
            {
                var (piece, score, type) = ParsePiece(r.ReadBytes());
                pieces.Add(piece);
                scores.Add(score);
                types.Add(type);
            }
            else if (field == 2 && wire == 2) trainer = r.ReadBytes();
            else if (field == 3 && wire == 2) normalizer = r.ReadBytes();
            else r.Skip(wire);
        }

        var model = new SentencePieceModelFile { Pieces = [.. pieces], Scores = [.. scores], Types = [.. types] };
        model.ParseTrainer(trainer);
        model.ParseNormalizer(normalizer);
        return model;
    }

    private static (string Piece, float Score, PieceType Type) ParsePiece(ReadOnlySpan<byte> data)
    {
        string piece = "";
        float score = 0;
        var type = PieceType.Normal;
        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            var (field, wire) = r.ReadTag();
            switch (field, wire)
            {
                case (1, 2): piece = Utf8(r.ReadBytes()); break;
                case (2, 5): score = BitConverter.Int32BitsToSingle((int)r.ReadFixed32()); break;
                case (3, 0): type = (PieceType)(int)r.ReadVarint(); break;
                default: r.Skip(wire); break;
            }
        }
        if (!Enum.IsDefined(type)) throw new InvalidDataException($"Unknown SentencePiece piece type {(int)type} for piece '{piece}'.");
        return (piece, score, type);
    }

    private void ParseTrainer(ReadOnlySpan<byte> data)
    {
        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            var (field, wire) = r.ReadTag();
            switch (field, wire)
            {
                case (3, 0): ModelType = (int)r.ReadVarint(); break;
                case (24, 0): TreatWhitespaceAsSuffix = r.ReadVarint() != 0; break;
                case (35, 0): ByteFallback = r.ReadVarint() != 0; break;
                case (40, 0): UnkId = (int)r.ReadVarint(); break;
                case (41, 0): BosId = (int)r.ReadVarint(); break;
                case (42, 0): EosId = (int)r.ReadVarint(); break;
                case (43, 0): PadId = (int)r.ReadVarint(); break;
                case (44, 2): UnkSurface = Utf8(r.ReadBytes()); break;
                default: r.Skip(wire); break;
            }
        }
    }

    private void ParseNormalizer(ReadOnlySpan<byte> data)
    {
        var r = new ProtoReader(data);
        while (!r.AtEnd)
        {
            var (field, wire) = r.ReadTag();
            switch (field, wire)
            {
                case (1, 2): NormalizerName = Utf8(r.ReadBytes()); break;
                case (2, 2): PrecompiledCharsMapLength = r.ReadBytes().Length; break;
                case (3, 0): AddDummyPrefix = r.ReadVarint() != 0; break;
                case (4, 0): RemoveExtraWhitespaces = r.ReadVarint() != 0; break;
                case (5, 0): EscapeWhitespaces = r.ReadVarint() != 0; break;
                default: r.Skip(wire); break;
            }
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string Utf8(ReadOnlySpan<byte> bytes)
    {
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException e) { throw new InvalidDataException("Invalid UTF-8 in a SentencePiece string field.", e); }
    }

    private ref struct ProtoReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;

        public readonly bool AtEnd => _pos >= _data.Length;

        public (int Field, int Wire) ReadTag()
        {
            ulong tag = ReadVarint();
            int field = (int)(tag >> 3);
            if (field == 0) throw new InvalidDataException($"Invalid protobuf field number 0 at byte {_pos}.");
            return (field, (int)(tag & 7));
        }

        public ulong ReadVarint()
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_pos >= _data.Length) throw new InvalidDataException("Truncated protobuf varint.");
                byte b = _data[_pos++];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return result;
            }
            throw new InvalidDataException("Protobuf varint longer than 10 bytes.");
        }

        public uint ReadFixed32()
        {
            if (_data.Length - _pos < 4) throw new InvalidDataException("Truncated protobuf fixed32.");
            uint v = BitConverter.ToUInt32(_data.Slice(_pos, 4));
            _pos += 4;
            return v;
        }

        public ReadOnlySpan<byte> ReadBytes()
        {
            ulong len = ReadVarint();
            if (len > (ulong)(_data.Length - _pos)) throw new InvalidDataException($"Protobuf length {len} at byte {_pos} runs past the end of the data.");
            var s = _data.Slice(_pos, (int)len);
            _pos += (int)len;
            return s;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: ReadVarint(); break;
                case 1: Advance(8); break;
                case 2: ReadBytes(); break;
                case 5: Advance(4); break;
                default: throw new InvalidDataException($"Unsupported protobuf wire type {wire} at byte {_pos}.");
            }
        }

        private void Advance(int n)
        {
            if (_data.Length - _pos < n) throw new InvalidDataException("Truncated protobuf field.");
            _pos += n;
        }
    }
}
