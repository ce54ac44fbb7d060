using GrokLens.Model;
using GrokLens.Tokenization;

namespace GrokLens.Training;

/// <summary>
/// A model's and a bigram baseline's loss on texts, per token and per character. Each text is encoded on its own and
/// read as [EOS] + its tokens (EOS separates books in training), so every token of the text is predicted and the nats
/// cover exactly its characters; nats per character therefore compare models whose tokenizers differ.
/// </summary>
public sealed record TextLoss(long Characters, long Tokens, double Nats, double BigramNats)
{
    public double NatsPerToken => Nats / Tokens;
    public double BigramNatsPerToken => BigramNats / Tokens;
    public double NatsPerCharacter => Nats / Characters;
    public double BigramNatsPerCharacter => BigramNats / Characters;
    public double TokensPerCharacter => (double)Tokens / Characters;

    /// <summary>The loss over both sets of texts (all four quantities add up).</summary>
    public static TextLoss operator +(TextLoss a, TextLoss b) =>
        new(a.Characters + b.Characters, a.Tokens + b.Tokens, a.Nats + b.Nats, a.BigramNats + b.BigramNats);

    /// <summary>Characters counted as Unicode scalar values.</summary>
    public static long CharacterCount(string text) => text.EnumerateRunes().LongCount();

    public static TextLoss Measure(GrokModel model, BigramBaseline bigram, ITokenizer tokenizer, IEnumerable<string> texts, int sequenceLength)
    {
        int start = tokenizer.EosId ?? tokenizer.BosId ?? throw new ArgumentException("The tokenizer has neither EOS nor BOS to start a text with.");
        long characters = 0, tokens = 0;
        double nats = 0, bigramNats = 0;
        foreach (var text in texts)
        {
            var ids = new List<int> { start };
            ids.AddRange(tokenizer.Encode(text));
            if (ids.Count < 2) continue;
            var (sum, predicted) = Evaluator.TotalLoss(model, ids, sequenceLength);
            nats += sum;
            tokens += predicted;
            bigramNats += bigram.CrossEntropy(ids) * (ids.Count - 1);
            characters += CharacterCount(text);
        }
        if (tokens == 0) throw new ArgumentException("The texts are empty.");
        return new TextLoss(characters, tokens, nats, bigramNats);
    }
}
