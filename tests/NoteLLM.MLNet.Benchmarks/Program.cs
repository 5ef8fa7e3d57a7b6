// Bench console app: every speed and memory target of the project is measured here, side by side in
// one run, never by timed unit tests.
//   dotnet run -c Release --project tests/NoteLLM.MLNet.Benchmarks -- <benchmark> [options]
// Run without arguments to list the benchmarks.
using System.Reflection;
using NoteLLM.MLNet.Benchmarks;

var benchmarks = typeof(IBenchmark).Assembly.GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name)
    .ToList();

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: NoteLLM.MLNet.Benchmarks <benchmark> [options]\n\nbenchmarks:");
    foreach (var b in benchmarks) Console.WriteLine($"  {b.Name,-16} {b.Description}");
    return args.Length == 0 ? 1 : 0;
}

var chosen = benchmarks.FirstOrDefault(b => b.Name == args[0]);
if (chosen is null)
{
    Console.Error.WriteLine($"unknown benchmark '{args[0]}'; known: {string.Join(", ", benchmarks.Select(b => b.Name))}");
    return 2;
}
Console.WriteLine($"# {chosen.Name}: {chosen.Description}");
Console.WriteLine($"# {Environment.ProcessorCount} cores, {RuntimeInformationText.Describe()}");
// before any benchmark's first tensor, as NoteLLM does in an app: every row gets the kernels a NoteLLM app gets, also
// rows that build networks without a NoteLLM model
Console.WriteLine($"# oneMKL's vendor test: {NoteLLM.MLNet.Runtime.CpuMatrixProducts.UseAvx512KernelsOnAmd()} ({NoteLLM.MLNet.Runtime.CpuMatrixProducts.OptOutVariable}=0 opts out)");
return chosen.Run(args.Skip(1).ToArray());
