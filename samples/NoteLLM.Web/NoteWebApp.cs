using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.ObjectPool;

namespace NoteLLM.Web;

/// <summary>
/// Builds the web app: configuration (section <c>NoteLLM</c>, command-line switches <c>--model</c>, <c>--index</c>,
/// <c>--notes</c>, <c>--postgres</c>, <c>--postgres-table</c> besides ASP.NET Core's own such as <c>--urls</c>), the
/// served model as a singleton loaded before the
/// app starts, the JSON endpoints (<see cref="NoteEndpoints"/>) and the page in wwwroot.
/// </summary>
public static class NoteWebApp
{
    /// <summary>The configuration section of <see cref="NoteServingOptions"/>.</summary>
    public const string Section = "NoteLLM";

    private static readonly Dictionary<string, string> Switches = new()
    {
        ["--model"] = $"{Section}:{nameof(NoteServingOptions.Model)}",
        ["--index"] = $"{Section}:{nameof(NoteServingOptions.Index)}",
        ["--notes"] = $"{Section}:{nameof(NoteServingOptions.Notes)}",
        ["--postgres"] = $"{Section}:{nameof(NoteServingOptions.Postgres)}",
        ["--postgres-table"] = $"{Section}:{nameof(NoteServingOptions.PostgresTable)}",
    };

    /// <summary>The app, with the model, index and notes loaded; call <c>Run</c> or <c>StartAsync</c> on it.</summary>
    /// <exception cref="NoteServingStartupException">a file or the PostgreSQL table is missing or cannot be read.</exception>
    public static WebApplication Create(string[] args)
    {
        // wwwroot is copied next to the app, so the page is served whatever the current folder is.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot") });
        builder.Configuration.AddCommandLine(args, Switches);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning); // no log lines per request
        builder.Services.AddProblemDetails();
        builder.Services.TryAddSingleton<ObjectPoolProvider, DefaultObjectPoolProvider>();
        builder.Services.AddSingleton(services => services.GetRequiredService<IConfiguration>().GetSection(Section).Get<NoteServingOptions>() ?? new NoteServingOptions());
        builder.Services.AddSingleton<NoteServing>();

        var app = builder.Build();
        app.Services.GetRequiredService<NoteServing>(); // loaded now: a missing file stops the start, not the first request
        app.UseStatusCodePages();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapNoteEndpoints();
        return app;
    }
}
