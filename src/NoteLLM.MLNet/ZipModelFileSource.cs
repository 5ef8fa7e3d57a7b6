using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.DataViews;

namespace NoteLLM.MLNet;

/// <summary>Reads a model's files from the transformer's folder of an ML.NET model zip.</summary>
internal sealed class ZipModelFileSource(ModelReader reader, string folder) : IModelFileSource
{
    public T Read<T>(string name, Func<Stream, T> read) => reader.ReadFile($"{folder}/{name}", read);
}
