// NoteLLM.Web: serves the quick start's model.zip and note index over HTTP: JSON endpoints (NoteEndpoints) and a page
// (wwwroot/index.html) that shows a note's generated category and hashtags and its related notes.
//
//   dotnet run -c Release --project samples/NoteLLM.Web [-- --model quickstart-output/model.zip] [--urls http://localhost:5000]
//
// The index (note-index.bin) and the indexed notes (indexed-notes.jsonl) are read from the model's folder unless
// --index / --notes name them; --postgres <connection string> [--postgres-table <name>] reads the index from the
// PostgreSQL table the quick start's --postgres filled instead. Exit code 1 with one line on standard error when a
// file or the table is missing or unreadable.
using System.Reflection;
using NoteLLM.Web;

try
{
    using var app = NoteWebApp.Create(args);
    app.Run();
    return 0;
}
catch (NoteServingStartupException e) when (Assembly.GetEntryAssembly() == typeof(NoteWebApp).Assembly)
{
    // Run as its own process: one line for the reader. Hosted by another process (a test's WebApplicationFactory),
    // the exception travels on to the host.
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
