using NoteLLM.QuickStart;
using Spectre.Console.Cli;

// dotnet run --project samples/NoteLLM.QuickStart [-- --data <folder> --epochs N --output <folder> --checkpoint <folder> --cuda]
var app = new CommandApp<QuickStartCommand>();
app.Configure(config => config.SetApplicationName("NoteLLM.QuickStart"));
return app.Run(args);
