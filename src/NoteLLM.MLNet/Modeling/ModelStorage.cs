namespace NoteLLM.MLNet.Modeling;

/// <summary>
/// Where a saved model's files go: a folder on disk, or entries of an ML.NET model zip. Names use '/' for
/// sub-folders (e.g. <c>tokenizer/tokenizer.model</c>).
/// </summary>
public interface IModelStorage
{
    void Write(string name, Action<Stream> write);
    T Read<T>(string name, Func<Stream, T> read);
    bool Contains(string name);
}

/// <summary>Model files in a folder. Files are written next to their final name and moved in when complete.</summary>
public sealed class FolderModelStorage(string folder) : IModelStorage
{
    public string Folder { get; } = folder;

    public void Write(string name, Action<Stream> write)
    {
        string path = PathOf(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string partial = path + ".partial";
        try
        {
            using (var f = File.Create(partial)) write(f);
            File.Move(partial, path, overwrite: true);
        }
        finally { if (File.Exists(partial)) File.Delete(partial); }
    }

    public T Read<T>(string name, Func<Stream, T> read)
    {
        string path = PathOf(name);
        if (!File.Exists(path)) throw new FileNotFoundException($"The saved model in '{Folder}' has no '{name}'.", path);
        using var f = File.OpenRead(path);
        return read(f);
    }

    public bool Contains(string name) => File.Exists(PathOf(name));

    private string PathOf(string name) => Path.Combine(Folder, name.Replace('/', Path.DirectorySeparatorChar));
}
