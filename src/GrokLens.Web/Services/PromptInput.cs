using System.Globalization;
using GrokLens.Web.Models;

namespace GrokLens.Web.Services;

/// <summary>
/// A prompt as the user typed it, read for a model: text through the model's tokenizer, or, for a model without one,
/// token ids ("12, 7, 99" or "#12 #7 #99"). Refusals are <see cref="PromptException"/>s meant for the user.
/// </summary>
public static class PromptInput
{
    /// <summary>The prompt box's label for the model.</summary>
    public static string Label(IWorkbenchModel? model) => model is { Tokenizer: null }
        ? $"Token ids (model {model.Name} has no tokenizer): e.g. 12, 7, 99"
        : "Prompt";

    /// <summary>Refuses an empty prompt before any model is needed (<paramref name="model"/>: the session's, if known).</summary>
    public static void RequireText([System.Diagnostics.CodeAnalysis.NotNull] string? text, IWorkbenchModel? model, string what = "prompt")
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new PromptException($"The {what} is empty: type some {(model is { Tokenizer: null } ? "token ids" : "text")} first.");
        PromptLimits.Check(text, $"The {what}");
    }

    public static IReadOnlyList<int> Encode(IWorkbenchModel model, string? text, string what = "prompt")
    {
        RequireText(text, model, what);
        var ids = model.Tokenizer is { } tokenizer ? tokenizer.Encode(text) : Ids(model, text, what);
        if (ids.Count == 0) throw new PromptException($"The {what} encodes to no tokens: type some text first.");
        if (ids.Count > model.Config.MaxPositions)
            throw new PromptException($"The {what} is {ids.Count} tokens long; model '{model.Name}' takes at most {model.Config.MaxPositions} tokens.");
        return ids;
    }

    /// <summary>One token: "#id" for any model, or text that is exactly one token; null for an empty field.</summary>
    public static int? Token(IWorkbenchModel model, string? text, string what)
    {
        if (string.IsNullOrEmpty(text)) return null;
        if (text.StartsWith('#') && int.TryParse(text[1..], NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            return id < model.Config.VocabSize ? id
                : throw new PromptException($"The {what} #{id} is outside the vocabulary 0…{model.Config.VocabSize - 1}.");
        if (model.Tokenizer is null)
            throw new PromptException($"Model '{model.Name}' has no tokenizer: type the {what} as #id (0…{model.Config.VocabSize - 1}).");
        var ids = model.Tokenizer.Encode(text);
        return ids.Count == 1 ? ids[0]
            : throw new PromptException($"The {what} “{text}” is {ids.Count} tokens; type text that is one token (e.g. mat: a word start gets its ▁ without a typed space) or #id.");
    }

    private static IReadOnlyList<int> Ids(IWorkbenchModel model, string text, string what)
    {
        var ids = new List<int>();
        foreach (var part in text.Split([',', ' ', '\n', '\t', ';'], StringSplitOptions.RemoveEmptyEntries))
        {
            var digits = part.TrimStart('#');
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
                throw new PromptException($"Model '{model.Name}' has no tokenizer: type the {what} as token ids such as 12, 7, 99 ('{part}' is not one).");
            if (id >= model.Config.VocabSize)
                throw new PromptException($"Token id {id} in the {what} is outside the vocabulary 0…{model.Config.VocabSize - 1}.");
            ids.Add(id);
        }
        return ids;
    }
}
