using System.Runtime.CompilerServices;
using Microsoft.ML;
using NoteLLM.MLNet.Tests.DataViews;

// The test transformer uses ML.NET internals (ModelLoadContext, LoadableClass, SignatureLoadModel) exactly as
// the library's own transformer does; the attribute type is the library's (visible through InternalsVisibleTo).
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: IgnoresAccessChecksTo("Microsoft.ML.Data")]
[assembly: LoadableClass(typeof(HashedNgramTransformer), null, typeof(SignatureLoadModel),
    "Hashed n-gram test transformer", HashedNgramTransformer.LoaderSignature)]
