using System.Text;

namespace GrokLens.Web.Views;

/// <summary>
/// A raw SentencePiece piece made visible like the tokenizer's DisplayPiece (control characters as symbols), for dumps
/// opened without their model's tokenizer. Byte pieces such as "&lt;0xE2&gt;" are already visible.
/// </summary>
public static class PieceDisplay
{
    public static string Of(string piece)
    {
        var text = new StringBuilder(piece.Length);
        foreach (char c in piece)
            text.Append(c switch
            {
                '\n' => "↵",
                '\t' => "⇥",
                '\r' => "␍",
                ' ' => "␣",
                '\u007F' => "␡",
                < ' ' => ((char)(0x2400 + c)).ToString(),
                _ => c.ToString(),
            });
        return text.ToString();
    }
}
