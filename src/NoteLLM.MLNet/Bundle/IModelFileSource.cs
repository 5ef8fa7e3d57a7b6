namespace NoteLLM.MLNet.Bundle;

/// <summary>Where a saved model's files are read from; files are read in the order they were written.</summary>
public interface IModelFileSource
{
    T Read<T>(string name, Func<Stream, T> read);
}
