namespace GrokLens.Web.Experts;

/// <summary>The Experts page's services, registered by Program with one call.</summary>
public static class ExpertsRegistration
{
    public static IServiceCollection AddExpertsPage(this IServiceCollection services, IConfiguration configuration, string repositoryRoot)
    {
        services.Configure<ExpertsOptions>(configuration.GetSection(ExpertsOptions.Section));
        services.PostConfigure<ExpertsOptions>(o =>
        {
            if (string.IsNullOrEmpty(o.CorpusFolder)) o.CorpusFolder = Path.Combine(repositoryRoot, ".cache", "corpus", "package");
        });
        services.AddSingleton<ExpertsService>();
        services.AddScoped<ExpertsSession>();
        return services;
    }
}
