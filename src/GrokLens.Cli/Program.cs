return GrokLens.Cli.CliApp.Run(args);
