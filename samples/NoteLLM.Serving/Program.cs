using NoteLLM.Serving;
using Spectre.Console.Cli;

// NoteLLM.Serving: a consumer of the NoteLLM.MLNet package that serves the quick start's model.zip.
//
//   dotnet run -c Release --project samples/NoteLLM.Serving -- --title "vim: Vi IMproved" --content "Vim is an almost compatible version of vi."
//   dotnet run -c Release --project samples/NoteLLM.Serving -- --notes quickstart-output/example-notes.jsonl [--model quickstart-output/model.zip] [--top 5] [--json]
//   dotnet run -c Release --project samples/NoteLLM.Serving -- --notes quickstart-output/example-notes.jsonl --postgres "Host=localhost;Database=notes;Username=app"
//
// Exit code: 0 success (and --help), 1 an error the message explains, another non-zero code for bad arguments.
var app = new CommandApp<ServingCommand>();
app.Configure(config => config.SetApplicationName("NoteLLM.Serving").UseStrictParsing()); // an unknown option is an error
return app.Run(args);
