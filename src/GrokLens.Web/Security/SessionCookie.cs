using System.Security.Cryptography;
using System.Text;

namespace GrokLens.Web.Security;

/// <summary>
/// A random, HttpOnly, same-site cookie that names the browser session, so plain HTTP requests (dump downloads) can be
/// tied to the Blazor session that created them. Pages only ever see its SHA-256 (<see cref="Key"/>), never the cookie.
/// </summary>
public static class SessionCookie
{
    public const string Name = "GrokLens.Session";
    private const string ItemKey = "GrokLens.SessionCookie";

    public static IApplicationBuilder UseSessionCookie(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var value = context.Request.Cookies[Name];
        if (string.IsNullOrEmpty(value) || value.Length != 32)
        {
            value = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            context.Response.Cookies.Append(Name, value, new CookieOptions
            {
                HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/", IsEssential = true,
            });
        }
        context.Items[ItemKey] = value;
        await next(context);
    });

    /// <summary>The session key of a request (the hash of its cookie), or null when it has none.</summary>
    public static string? Key(HttpContext context) =>
        (context.Items[ItemKey] as string ?? context.Request.Cookies[Name]) is { Length: > 0 } value
            ? Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(value)))
            : null;
}
