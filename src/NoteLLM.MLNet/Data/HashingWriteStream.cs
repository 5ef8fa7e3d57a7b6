namespace NoteLLM.MLNet.Data;

/// <summary>
/// Passes writes through to a stream while counting them and feeding them into a hash (the SHA-256 of a model
/// file, the CRC-64 of a note index). Disposing it (as a <c>StreamWriter</c> may) leaves the underlying stream open.
/// </summary>
internal sealed class HashingWriteStream(Stream inner, HashingWriteStream.AppendBytes hash) : Stream
{
    /// <summary>Feeds bytes into a hash: <c>IncrementalHash.AppendData</c> or <c>NonCryptographicHashAlgorithm.Append</c>.</summary>
    public delegate void AppendBytes(ReadOnlySpan<byte> bytes);

    private long length;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;

    /// <summary>The number of bytes written so far.</summary>
    public override long Length => length;

    public override long Position { get => length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        hash(buffer);
        length += buffer.Length;
    }

    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
