using System.CommandLine;
using GrokLens.Analysis.Experts;

namespace GrokLens.Cli.Commands;

/// <summary><c>groklens experts audit | top-expert | lens</c>: the analyses that run the model with experts changed or read one by one.</summary>
internal static class ExpertsCausalCommands
{
    public static Command Audit(CliIO io)
    {
        var options = new ExpertsOptions();
        var layers = new Option<string>("--layers") { Description = "Layers whose experts are banned one at a time, e.g. 0,3 (default: all)." };
        var experts = new Option<string>("--experts") { Description = "Experts to ban in each of those layers (default: all)." };
        var command = new Command("audit", "Causal audit: each expert's use rate, gate mass and output norm beside the loss change when it is banned, " +
                                           "and their rank correlations.") { layers, experts };
        options.AddTo(command);
        command.SetAction(parse =>
        {
            options.RequireCorpus(parse);
            var auditOptions = new CausalAuditOptions
            {
                Layers = ExpertsOptions.IntList(parse.GetValue(layers), "--layers"),
                Experts = ExpertsOptions.IntList(parse.GetValue(experts), "--experts"),
            };
            return options.RunAnalysis(io, parse, "audit", (model, corpus, progress, cancel) => CausalAudit.Run(model, corpus, auditOptions, progress, cancel));
        });
        return command;
    }

    public static Command TopExpert(CliIO io)
    {
        var options = new ExpertsOptions();
        var layers = new Option<string>("--layers") { Description = "Layers whose top-expert-only loss is measured, one pass each (default: all)." };
        var noAll = new Option<bool>("--no-all-layers") { Description = "Skip the pass with only the top expert in every layer at once." };
        var renormalise = new Option<bool>("--renormalise") { Description = "Give the kept expert gate 1 instead of the router's probability." };
        var command = new Command("top-expert", "MoE Lens over a corpus: cosine of the top expert's output with the MoE output, and the loss " +
                                                "with only the top expert kept.") { layers, noAll, renormalise };
        options.AddTo(command);
        command.SetAction(parse =>
        {
            options.RequireCorpus(parse);
            var topOptions = new TopExpertOptions
            {
                Layers = ExpertsOptions.IntList(parse.GetValue(layers), "--layers"),
                AllLayers = !parse.GetValue(noAll),
                RenormaliseGate = parse.GetValue(renormalise),
            };
            return options.RunAnalysis(io, parse, "top-expert", (model, corpus, progress, cancel) => TopExpertOnly.Run(model, corpus, topOptions, progress, cancel));
        });
        return command;
    }

    public static Command Lens(CliIO io)
    {
        var options = new ExpertsOptions();
        var prompt = CommonOptions.Prompt();
        var tokenIds = CommonOptions.TokenIds();
        var layers = new Option<string>("--layers") { Description = "Layers to read (default: all)." };
        var top = new Option<int>("--top") { Description = "Top tokens per expert and position.", DefaultValueFactory = _ => 5 };
        var command = new Command("lens", "Per-expert logit lens of one prompt: each chosen expert's contribution read through the final norm and " +
                                          "unembedding, per position, with the top expert's cosine to the MoE output.") { prompt, tokenIds, layers, top };
        options.AddTo(command, corpus: false);
        command.SetAction(parse =>
        {
            CommonOptions.RequireOnePrompt(parse.GetValue(prompt), parse.GetValue(tokenIds));
            if (parse.GetValue(top) < 1) throw new UsageException("--top must be at least 1.");
            var chosen = ExpertsOptions.IntList(parse.GetValue(layers), "--layers");
            using var model = options.LoadModel(parse);
            var ids = CommonOptions.PromptTokens(model, parse.GetValue(prompt), parse.GetValue(tokenIds));
            var result = ExpertLens.ForPrompt(model, ids, parse.GetValue(top), chosen);
            ExpertsOutput.Write(io, parse, options, "lens", model, null, result, result.Tables());
            return CliApp.Ok;
        });
        return command;
    }
}
