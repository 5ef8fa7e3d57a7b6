// Torch uses every core for one operation; tests running side by side would only oversubscribe the two
// cores of CI and make timings and determinism worse.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
