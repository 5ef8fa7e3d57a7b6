// Builds the Debian notes dataset from apt's index files:
//   apt-get update -o Acquire::Languages=en
//   dotnet run -c Release --project samples/NoteLLM.DebianNotes.Builder -- \
//     /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4 \
//     /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_i18n_Translation-en.lz4 \
//     data/debian-notes [data/debian-notes-subset 3000]
// Files may be plain, .gz, .xz or .lz4. Writes notes.jsonl.gz, train-pairs.csv.gz and test-pairs.csv.gz into the
// output directory, prints the statistics and updates the statistics block of a README.md found there.
using NoteLLM.DebianNotes.Builder;

if (args.Length is not (3 or 5))
{
    Console.Error.WriteLine("usage: NoteLLM.DebianNotes.Builder <Packages> <Translation-en> <out-dir> [<subset-dir> <subset-notes>]");
    return 2;
}
var dataset = DebianNotesBuilder.Build(ControlFile.Read(args[0]), ControlFile.Read(args[1]));
foreach (var (what, count) in dataset.Counts.OrderBy(c => c.Key)) Console.WriteLine($"{what}: {count}");
Save(args[2], dataset);
if (args.Length == 5) Save(args[3], DatasetFiles.Subset(dataset, int.Parse(args[4])));
return 0;

static void Save(string directory, DebianDataset dataset)
{
    DatasetFiles.Write(directory, dataset);
    var statistics = DatasetStatistics.Markdown(dataset.Notes, dataset.TrainPairs, dataset.TestPairs);
    Console.WriteLine($"\n{directory}:\n{statistics}");
    var readme = Path.Combine(directory, "README.md");
    if (File.Exists(readme)) File.WriteAllText(readme, DatasetStatistics.ReplaceBlock(File.ReadAllText(readme), statistics));
}
