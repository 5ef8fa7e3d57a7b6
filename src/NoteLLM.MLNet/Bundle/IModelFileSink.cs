namespace NoteLLM.MLNet.Bundle;

/// <summary>
/// Where a saved model's files go: a folder on disk, or the transformer's entry of an ML.NET model zip.
/// Names use '/' for sub-folders (e.g. <c>tokenizer/tokenizer.model</c>).
/// </summary>
public interface IModelFileSink
{
    void Write(string name, Action<Stream> write);
}
