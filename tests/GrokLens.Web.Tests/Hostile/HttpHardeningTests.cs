using System.Net;
using System.Security.Cryptography;
using System.Text;
using GrokLens.Web.Security;
using GrokLens.Web.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace GrokLens.Web.Tests.Hostile;

/// <summary>
/// The HTTP face of the workbench, in Development (the README's <c>dotnet run</c>) and Production: host and origin
/// checks, security headers, error responses without details, and the dump download endpoint's refusals.
/// </summary>
public sealed class HttpHardeningTests : IAsyncLifetime
{
    private const string ThrowPath = "/test/throw";
    private readonly Dictionary<string, WebApplicationFactory<Program>> apps = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var app in apps.Values) await app.DisposeAsync();
    }

    /// <summary>The app in an environment, on the in-memory test server, with one extra path that throws.</summary>
    private WebApplicationFactory<Program> App(string environment)
    {
        if (apps.TryGetValue(environment, out var app)) return app;
        TestRepository.RequireModel();
        app = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseEnvironment(environment)
            .ConfigureServices(s => s.AddSingleton<IStartupFilter>(new ThrowingPath())));
        apps[environment] = app;
        return app;
    }

    /// <summary>Appends, after the app's own pipeline, a path that fails the way an unexpected server error does.</summary>
    private sealed class ThrowingPath : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            next(app);
            app.Use((HttpContext context, Func<Task> _) => context.Request.Path == ThrowPath
                ? throw new InvalidOperationException("secret detail at /work/somewhere/on/the/server")
                : Task.CompletedTask);
        };
    }

    private static void AssertNoDetails(string body)
    {
        Assert.DoesNotContain("   at ", body);
        Assert.DoesNotContain("secret detail", body);
        Assert.DoesNotContain("/work/", body);
        Assert.DoesNotContain("InvalidOperationException", body);
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task AServerErrorIsAPageWithARequestIdAndNoDetails(string environment)
    {
        using var client = App(environment).CreateClient();
        var page = await client.GetAsync(ThrowPath);
        Assert.Equal(HttpStatusCode.InternalServerError, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("id=\"error-page\"", html);
        Assert.Contains("Something went wrong on the server", html);
        AssertNoDetails(html);
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task OnlyConfiguredHostNamesAreServed(string environment)
    {
        using var client = App(environment).CreateClient();
        foreach (var (host, served) in new[] { ("localhost", true), ("127.0.0.1", true), ("evil.example", false), ("rebound.attacker.test:5000", false) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/app.css");
            request.Headers.Host = host;
            var response = await client.SendAsync(request);
            Assert.True(served == (response.StatusCode == HttpStatusCode.OK), $"{host}: {response.StatusCode}");
        }
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task TheBlazorHubRefusesPagesOfOtherOrigins(string environment)
    {
        using var client = App(environment).CreateClient();
        foreach (var (origin, allowed) in new[] { ("http://evil.example", false), ("http://localhost", true), ("http://localhost:8080", false) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{OriginCheck.HubPath}/negotiate?negotiateVersion=1");
            request.Headers.Add("Origin", origin);
            var response = await client.SendAsync(request);
            Assert.True(allowed == (response.StatusCode == HttpStatusCode.OK), $"{origin}: {response.StatusCode}");
            if (!allowed) Assert.Contains("Cross-origin request refused", await response.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/app.css")]
    [InlineData("/_content/MudBlazor/MudBlazor.min.css")]
    public async Task EveryResponseCarriesTheSecurityHeaders(string path)
    {
        using var client = App("Development").CreateClient();
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal(SecurityHeaders.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
    }

    /// <summary>A client with its own session cookie (from loading the page) and the key that cookie stands for.</summary>
    private static async Task<(HttpClient Client, string SessionKey)> SessionAsync(WebApplicationFactory<Program> app)
    {
        var client = app.CreateClient();
        var page = await client.GetAsync("/");
        var cookie = page.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(SessionCookie.Name + "=", StringComparison.Ordinal));
        var value = cookie[(SessionCookie.Name.Length + 1)..cookie.IndexOf(';')];
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        return (client, Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(value))));
    }

    /// <summary>A lease of the app's grok-tiny: the model a session's runs (and so its download tickets) are bound to.</summary>
    private static Task<GrokLens.Web.Models.ModelLease> ModelAsync(WebApplicationFactory<Program> app) =>
        app.Services.GetRequiredService<GrokLens.Web.Models.ModelRegistry>().AcquireAsync(TestRepository.ModelName);

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task TheDownloadEndpointRefusesClearlyAndTicketsAreSingleUseAndBoundToTheSession(string environment)
    {
        var app = App(environment);
        using var model = await ModelAsync(app);
        var downloads = app.Services.GetRequiredService<DumpDownloads>();
        var (client, session) = await SessionAsync(app);
        using var _ = client;
        DumpDownloadRun[] runs = [new("run0", [1, 2, 3], null, [])];
        var ticket = downloads.Create(runs, model.Model, session);
        string Url(string t, string hooks) => $"{DumpEndpoints.CurrentPath}?ticket={t}&hooks={hooks}";

        // A malformed pattern (the issue's %7Ba) is a 400 that says what is wrong; the ticket stays usable.
        var malformed = await client.GetAsync(Url(ticket, "%7Ba"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("The hook pattern list '{a' has a '{' without its '}'.", await malformed.Content.ReadAsStringAsync());
        var unknown = await client.GetAsync(Url(ticket, "blocks.*.attn.no_such_hook"));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("'blocks.*.attn.no_such_hook' matches no hook point", await unknown.Content.ReadAsStringAsync());

        // {a,b} globs are one pattern each, commas inside braces included.
        var ok = await client.GetAsync(Url(ticket, Uri.EscapeDataString("blocks.{0,1}.hook_resid_post, logits")));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using (var dump = GrokLens.Dumps.DumpReader.OpenZip(await ok.Content.ReadAsStreamAsync()))
            Assert.Equal(["blocks.0.hook_resid_post", "blocks.1.hook_resid_post", "logits"], dump.Runs[0].Hooks.Select(h => h.Name).Order());

        // Used once, gone.
        var again = await client.GetAsync(Url(ticket, "logits"));
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Contains("unknown, used or expired", await again.Content.ReadAsStringAsync());

        // Another browser session cannot use this session's ticket, nor can a request without a session.
        var fresh = downloads.Create(runs, model.Model, session);
        var (other, _) = await SessionAsync(app);
        using (other)
        {
            var foreign = await other.GetAsync(Url(fresh, "logits"));
            Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
            Assert.Contains("another browser session", await foreign.Content.ReadAsStringAsync());
        }
        using var anonymous = app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.GetAsync(Url(fresh, "logits"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Url(fresh, "logits"))).StatusCode); // still the owner's
    }
}
