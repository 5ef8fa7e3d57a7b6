using System.Security.Cryptography;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace NoteLLM.MLNet.DataViews;

/// <summary>
/// The identity and version of a transformer's entry in an ML.NET model zip, and the checked save/load of its
/// content. Everything written through <see cref="ModelWriter"/> is verified on load (a SHA-256 over the scalar
/// section and over every file), so a truncated or corrupted zip fails with an <see cref="InvalidDataException"/>
/// naming what is damaged, before the loader builds any state from it.
/// </summary>
/// <remarks>
/// Versions: <see cref="Version"/> is written into every saved model and must grow with every change to
/// what <see cref="ModelWriter"/> receives; <see cref="OldestLoadableVersion"/> is the oldest written version the
/// loader still reads (read <see cref="ModelReader.Version"/> to handle older layouts). A file written by a newer
/// version than <see cref="Version"/> is refused with a message saying so.
/// </remarks>
public sealed class ModelFormat
{
    /// <param name="signature">Exactly 8 ASCII characters identifying the transformer's entry (ML.NET model signature).</param>
    /// <param name="version">The format version written (e.g. <c>0x00010001</c>).</param>
    /// <param name="oldestLoadableVersion">The oldest written version the loader reads.</param>
    /// <param name="loaderSignature">The name (at most 24 ASCII characters) the transformer is registered under with
    /// <c>[assembly: LoadableClass(..., typeof(SignatureLoadModel), ..., loaderSignature)]</c>.</param>
    /// <param name="loaderType">The transformer type; its assembly is recorded so other processes find the loader.</param>
    public ModelFormat(string signature, uint version, uint oldestLoadableVersion, string loaderSignature, Type loaderType)
    {
        if (signature is null || signature.Length != 8 || signature.Any(c => c < 0x21 || c > 0x7E))
            throw new ArgumentException($"A model signature is exactly 8 printable ASCII characters without spaces; got '{signature}'.", nameof(signature));
        if (oldestLoadableVersion > version)
            throw new ArgumentOutOfRangeException(nameof(oldestLoadableVersion), "The oldest loadable version cannot be newer than the version written.");
        // ML.NET stores the loader signature in 24 one-byte characters of the model header.
        if (string.IsNullOrWhiteSpace(loaderSignature) || loaderSignature.Length > 24 || loaderSignature.Any(c => c > 0x7E))
            throw new ArgumentException($"A loader signature is 1 to 24 ASCII characters; got '{loaderSignature}'.", nameof(loaderSignature));
        ArgumentNullException.ThrowIfNull(loaderType);
        Signature = signature;
        Version = version;
        OldestLoadableVersion = oldestLoadableVersion;
        LoaderSignature = loaderSignature;
        VersionInfo = new VersionInfo(signature, version, verReadableCur: version, verWeCanReadBack: oldestLoadableVersion,
            loaderAssemblyName: loaderType.Assembly.FullName, loaderSignature: loaderSignature);
    }

    /// <summary>The 8-character model signature.</summary>
    public string Signature { get; }

    /// <summary>The format version written.</summary>
    public uint Version { get; }

    /// <summary>The oldest written version the loader reads.</summary>
    public uint OldestLoadableVersion { get; }

    /// <summary>The loader's registration name.</summary>
    public string LoaderSignature { get; }

    /// <summary>ML.NET's version record written into the model header.</summary>
    internal VersionInfo VersionInfo { get; }

    /// <summary>Writes the model header, then what <paramref name="write"/> writes, then the integrity record.
    /// Call from <see cref="ICanSaveModel.Save"/>.</summary>
    public void Save(ModelSaveContext ctx, Action<ModelWriter> write)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(write);
        MLNetVersion.Check();
        ctx.CheckAtModel();
        ctx.SetVersionInfo(VersionInfo);
        var writer = new ModelWriter(ctx);
        write(writer);
        writer.Complete();
    }

    /// <summary>
    /// Checks the header and the integrity of the saved section, then calls <paramref name="read"/> to build the
    /// transformer from it. Call from the transformer's <c>static Create(IHostEnvironment, ModelLoadContext)</c>.
    /// </summary>
    /// <exception cref="InvalidDataException">The entry is not this format, has an unsupported version, or is truncated
    /// or corrupted; or <paramref name="read"/> did not read exactly what was saved.</exception>
    /// <exception cref="InvalidOperationException">The Microsoft.ML version at run time is not the one this library was
    /// built against.</exception>
    public T Load<T>(IHostEnvironment env, ModelLoadContext ctx, Func<ModelReader, T> read)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(ctx);
        ArgumentNullException.ThrowIfNull(read);
        MLNetVersion.Check();
        string where = $"'{ctx.Directory ?? "(root)"}' of the model zip";
        try
        {
            CheckHeader(ctx, where);
            ctx.CheckAtModel();
            var reader = new ModelReader(ctx, ReadSection(ctx, where), ctx.Header.ModelVerWritten, where);
            T result = read(reader);
            reader.CheckFullyRead();
            return result;
        }
        catch (InvalidDataException ex)
        {
            throw env.Process(ex);
        }
        catch (EndOfStreamException)
        {
            // Not chained, so that GetBaseException() of ML.NET's wrapping exceptions is this message.
            throw env.Process(new InvalidDataException($"The {LoaderSignature} entry {where} ends early: the model file is truncated or corrupted."));
        }
    }

    private void CheckHeader(ModelLoadContext ctx, string where)
    {
        ulong found = ctx.Header.ModelSignature;
        if (found != VersionInfo.ModelSignature)
            throw new InvalidDataException($"The entry {where} has model signature '{SignatureText(found)}', not '{Signature}' ({LoaderSignature}): the model file is corrupted or was not written by this transformer.");
        uint written = ctx.Header.ModelVerWritten, readable = ctx.Header.ModelVerReadable;
        if (readable > Version)
            throw new InvalidDataException($"The {LoaderSignature} entry {where} was written in format version 0x{written:X8}, which needs a reader of version 0x{readable:X8} or newer; this library reads up to 0x{Version:X8}. Update the package to load this model.");
        if (written < OldestLoadableVersion)
            throw new InvalidDataException($"The {LoaderSignature} entry {where} was written in format version 0x{written:X8}; this library reads versions 0x{OldestLoadableVersion:X8} to 0x{Version:X8}.");
    }

    private byte[] ReadSection(ModelLoadContext ctx, string where)
    {
        var input = ctx.Reader;
        long length = input.ReadInt64();
        long available = input.BaseStream.CanSeek ? input.BaseStream.Length - input.BaseStream.Position : long.MaxValue;
        if (length < 0 || length > Array.MaxLength || length + SHA256.HashSizeInBytes > available)
            throw new InvalidDataException($"The {LoaderSignature} entry {where} records a {length}-byte section but holds {available} bytes: the model file is truncated or corrupted.");
        byte[] section = input.ReadBytes((int)length);
        byte[] expectedHash = input.ReadBytes(SHA256.HashSizeInBytes);
        if (section.Length != length || expectedHash.Length != SHA256.HashSizeInBytes)
            throw new EndOfStreamException();
        if (!SHA256.HashData(section).AsSpan().SequenceEqual(expectedHash))
            throw new InvalidDataException($"The {LoaderSignature} entry {where} is corrupted (SHA-256 mismatch of its saved settings).");
        return section;
    }

    private static string SignatureText(ulong signature)
    {
        var chars = new char[8];
        for (int i = 0; i < 8; i++)
        {
            char c = (char)((signature >> (8 * i)) & 0xFF);
            chars[i] = c == 0 ? ' ' : c;
        }
        return new string(chars);
    }
}
