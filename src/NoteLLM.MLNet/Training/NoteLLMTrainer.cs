using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NoteLLM.MLNet.Bundle;
using NoteLLM.MLNet.Modeling;
using NoteLLM.MLNet.Prompting;
using NoteLLM.MLNet.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NoteLLM.MLNet.Training;

/// <summary>
/// Trains a <see cref="NoteLLMModel"/> with GCL + CSFT (paper sections 3.3, 3.4 and 4.1): one forward pass per micro-batch serves
/// both losses, L = (w L_cl + alpha L_gen) / (1 + alpha), with GCL's negatives drawn from the step's whole batch
/// across accumulated micro-batches (gradient caching); AdamW with warm-up and decay, clipping, gradient
/// accumulation, optional LoRA, validation with best-weight selection, and exact resume from checkpoints.
/// Deterministic on the CPU for a given seed: data order and prompt variants are drawn from random generators
/// seeded by (seed, epoch) and (seed, micro-batch index), so they depend on the step only.
/// </summary>
public sealed class NoteLLMTrainer
{
    private readonly NoteLLMModel model;
    private readonly NoteLLMTrainerOptions options;
    private readonly Action<string> log;
    private readonly IProgress<TrainingProgress>? progress;

    public NoteLLMTrainer(NoteLLMModel model, NoteLLMTrainerOptions options, Action<string>? log = null, IProgress<TrainingProgress>? progress = null)
    {
        this.model = model;
        this.options = options.Validate();
        this.log = log ?? (_ => { });
        this.progress = progress;
    }

    /// <summary>
    /// Called before every step; throws <see cref="OperationCanceledException"/> to stop training, as
    /// the cancellation token of <see cref="Train"/> does. The estimator passes ML.NET's <c>host.CheckAlive</c>, which throws once
    /// <c>mlContext.CancelExecution()</c> was called (as ML.NET's own TorchSharp trainers check it every step).
    /// </summary>
    internal Action? CheckAlive { get; init; }

    /// <summary>
    /// Whether a checkpoint is resumed only by a run that starts from the same weights (their bytes are hashed into
    /// its fingerprint). The estimator sets it: its starting model is a function of its options (another encoder or
    /// checkpoint of the same shape is another run). Off by default, so that a model with any weights can resume, all
    /// of which the checkpoint replaces.
    /// </summary>
    internal bool FingerprintsStartingWeights { get; init; }

    /// <summary>
    /// Trains on <paramref name="pairs"/>, and CSFT also on <paramref name="generationNotes"/> when given (notes that generate
    /// their category and hashtags and take no part in GCL, <see cref="NoteLLMTrainerOptions.GenerationNotesPerMicroBatch"/>
    /// per micro-batch; empty ones and ones with neither category nor hashtags are counted and skipped). Without
    /// <paramref name="validation"/>, <see cref="NoteLLMTrainerOptions.ValidationFraction"/> of the cleaned pairs is held out. Cancelling stops before the next step with <see cref="OperationCanceledException"/>,
    /// after writing a checkpoint of the steps done when <see cref="NoteLLMTrainerOptions.CheckpointDirectory"/> is set;
    /// training again with the same data and options resumes from it.
    /// </summary>
    public TrainingResult Train(IEnumerable<NotePair> pairs, IEnumerable<NotePair>? validation = null, CancellationToken cancellation = default,
        TrainingDataReport? report = null, IEnumerable<NoteText>? generationNotes = null)
    {
        var wall = Stopwatch.StartNew();
        var (cleaned, dataReport) = TrainingData.Clean(pairs, report, model.Prompts.HasNoText);
        var extraNotes = TrainingData.CleanGenerationNotes(generationNotes ?? [], dataReport, model.Prompts.HasNoText);
        log($"training data: {dataReport}");
        var (train, heldOut) = validation is not null ? (cleaned, CleanValidation(validation)) : HoldOut(cleaned);
        if (train.Count < 2)
            throw new InvalidOperationException($"NoteLLM needs at least 2 related-note pairs to train (GCL uses in-batch negatives); after cleaning {train.Count} remain ({dataReport}).");

        model.Categories = train.SelectMany(p => new[] { p.First.Category, p.Second.Category }).Concat(extraNotes.Select(n => n.Category))
            .OfType<string>().Distinct().OrderBy(c => c, StringComparer.Ordinal).ToArray();
        model.LearnedTasks = LearnedTasks(train.SelectMany(p => new[] { p.First, p.Second }).Concat(extraNotes));
        var network = model.Network;
        var device = model.Backbone.Device;
        if (options.LoraRank > 0) AddLora(network);
        var trainable = network.parameters().Where(p => p.requires_grad).ToList();
        using var masters = new MasterWeights(trainable); // float32 weights and optimizer state whatever the network's precision
        var (optimizer, learningRateShares) = Optimizer(network, trainable, masters);
        var tau = masters.InFloat32(network.Tau);

        var plan = new MicroBatchPlan(train, options, extraNotes);
        int totalSteps = plan.Steps;
        log($"training {train.Count} pairs ({heldOut.Count} held out for validation), {plan.BatchSize} pairs" +
            (extraNotes.Count > 0 ? $" and {options.GenerationNotesPerMicroBatch} of {extraNotes.Count} generation-only notes" : "") +
            $" per micro-batch x {options.GradientAccumulationSteps} per step, " +
            $"{totalSteps} steps, {trainable.Sum(p => p.numel()):N0} trainable parameters on {device.type}, {model.Backbone.Dtype}" +
            (masters.AreCopies ? " with float32 master weights" : ""));

        using var folderLock = TrainingCheckpoint.Lock(options.CheckpointDirectory);
        var checkpoints = new CheckpointSchedule(options.CheckpointDirectory, options.CheckpointEverySteps, network, optimizer, masters, Fingerprint(train, heldOut, extraNotes));
        var history = new List<TrainingProgress>();
        var resumedState = checkpoints.TryResume();
        int startStep = resumedState?.Step ?? 0;
        if (resumedState is not null)
        {
            history.AddRange(resumedState.History);
            log($"resumed from the checkpoint in '{checkpoints.Directory}' at step {startStep}");
        }
        using var best = new BestWeightsKeeper(network, options.KeepBestValidationWeights, options.CheckpointDirectory,
            resumedState?.BestValidationLoss, resumedState?.BestValidationStep);

        var timer = Stopwatch.StartNew();
        long notesSeen = 0, tokensSeen = 0;
        double lastLoss = 0, lastCl = 0, lastGen = 0;
        network.train();
        for (int step = startStep; step < totalSteps; step++)
        {
            try
            {
                cancellation.ThrowIfCancellationRequested();
                CheckAlive?.Invoke();
            }
            catch (OperationCanceledException)
            {
                if (checkpoints.SaveCancelled(step, best, history))
                    log($"training cancelled after step {step}; resume from the checkpoint written to '{checkpoints.Directory}'");
                else log($"training cancelled after step {step}");
                throw;
            }
            double lr = LearningRateSchedule.At(step, totalSteps, options.LearningRate, options.WarmupRatio, options.Decay);
            foreach (var (group, share) in optimizer.ParamGroups.Zip(learningRateShares)) group.LearningRate = lr * share;
            optimizer.zero_grad();

            var (firstMicro, micros) = plan.MicroBatchesOf(step);
            double stepLoss, stepCl, stepGen;
            using (NewDisposeScope()) // the micro-batches' tensors and every temporary of the step
            {
                var csfts = new List<CsftBatch>(micros);
                for (int micro = firstMicro; micro < firstMicro + micros; micro++)
                {
                    var csft = CsftBatch.Build(model, plan.PairsOf(micro), options, new Random(Mix(options.Seed, micro)), device, plan.GenerationNotesOf(micro));
                    if (plan.EpochOf(micro) == 0) { dataReport.PromptsBuilt += csft.Notes; dataReport.TruncatedPrompts += csft.Truncated; dataReport.PromptsWithoutGenerationTarget += csft.WithoutTarget; }
                    notesSeen += csft.Notes; tokensSeen += csft.RealTokens;
                    csfts.Add(csft);
                }
                (stepLoss, stepCl, stepGen) = AccumulateGradients(csfts, masters);
            }
            if (!double.IsFinite(stepLoss))
                throw new InvalidOperationException(
                    $"NoteLLM training diverged at step {step + 1}: the loss is {stepLoss} (contrastive {stepCl}, generation {stepGen}, " +
                    $"tau {tau.item<float>():F3}, learning rate {lr:E2}). Lower LearningRate, keep MaxGradientNorm > 0, or train in float32.");
            if (options.MaxGradientNorm > 0) nn.utils.clip_grad_norm_(masters.Parameters, options.MaxGradientNorm);
            optimizer.step();
            masters.CopyToNetwork();
            if ((step + 1) % 10 == 0) NativeHeap.Trim(); // give glibc-retained tensor buffers back so RSS stays flat
            lastLoss = stepLoss; lastCl = stepCl; lastGen = stepGen;

            int done = step + 1;
            double? validationLoss = null;
            if (heldOut.Count >= 2 && (done % options.ValidateEverySteps == 0 || done == totalSteps))
            {
                validationLoss = ValidationLoss(heldOut, plan.BatchSize, device, tau);
                best.Offer(validationLoss.Value, done);
            }
            if (done % options.LogEverySteps == 0 || done == totalSteps || validationLoss is not null)
            {
                double seconds = timer.Elapsed.TotalSeconds;
                var report1 = new TrainingProgress(done, totalSteps, plan.EpochOf(firstMicro) + 1, lastLoss, lastCl, lastGen, tau.item<float>(), lr,
                    notesSeen / seconds, tokensSeen / seconds, wall.Elapsed, TimeSpan.FromSeconds(seconds / (done - startStep) * (totalSteps - done)), validationLoss);
                history.Add(report1);
                log(report1.ToString());
                progress?.Report(report1);
            }
            checkpoints.SaveIfDue(done, totalSteps, best, history);
        }

        if (best.Restore(totalSteps)) log($"restored the weights of step {best.BestStep}, the lowest validation loss ({best.BestLoss:F4})");
        network.eval();
        log($"training done in {wall.Elapsed:hh\\:mm\\:ss}: {dataReport}");
        return new TrainingResult(totalSteps, history, best.BestLoss, best.BestStep, dataReport, wall.Elapsed, resumedState is not null);
    }

    // The CSFT tasks some training note can take (CsftBatch): a note with hashtags takes the hashtag task when drawn for
    // it (a share r of each side of the batch) or when it has no category; a note with a category takes the category
    // task otherwise. Alpha = 0 trains no generation at all.
    private GenerationTasks LearnedTasks(IEnumerable<NoteText> notes)
    {
        if (options.Alpha == 0) return GenerationTasks.None;
        var learned = GenerationTasks.None;
        foreach (var note in notes)
        {
            bool hasHashtags = model.Prompts.Hashtags(note).Count > 0;
            if (hasHashtags && (options.HashtagTaskRatio > 0 || note.Category is null)) learned |= GenerationTasks.Hashtags;
            if (note.Category is not null && (options.HashtagTaskRatio < 1 || !hasHashtags)) learned |= GenerationTasks.Category;
        }
        return learned;
    }

    // Without a validation set: a seeded, order-independent split that holds out the ValidationFraction of the pairs
    // with the smallest seeded hash (none when that is fewer than 2).
    private (List<NotePair> Train, List<NotePair> HeldOut) HoldOut(List<NotePair> cleaned)
    {
        int count = (int)Math.Floor(options.ValidationFraction * cleaned.Count);
        var ranked = cleaned.OrderBy(p => StableHash(options.Seed, TrainingData.Key(p.FirstId, p.First) + "|" + TrainingData.Key(p.SecondId, p.Second))).ToList();
        List<NotePair> heldOut = count >= 2 ? ranked.Take(count).ToList() : [];
        var heldOutSet = heldOut.ToHashSet();
        return (cleaned.Where(p => !heldOutSet.Contains(p)).ToList(), heldOut);
    }

    /// <summary>
    /// Adds to the parameters' gradients those of one optimizer step, whose batch is <paramref name="micros"/>
    /// together, and returns its loss with its contrastive and generation parts (each averaged over the micro-batches).
    /// With <paramref name="masters"/>, the gradients are summed into the float32 masters after every backward pass.
    /// </summary>
    internal (double Loss, double Contrastive, double Generation) AccumulateGradients(IReadOnlyList<CsftBatch> micros, MasterWeights? masters = null)
    {
        var tau = masters?.InFloat32(model.Network.Tau) ?? model.Network.Tau;
        if (micros.Count > 1 && options.ContrastAcrossMicroBatches && options.ContrastiveWeight > 0) return AccumulateWithCachedEmbeddings(micros, masters, tau);
        double loss = 0, contrastive = 0, generation = 0;
        using var microBatches = micros.Count.ToScalar(); // held: see HeldScalars
        foreach (var micro in micros)
        {
            using var scope = NewDisposeScope();
            var (l, cl, gen) = Loss(micro, tau);
            (l / microBatches).backward();
            masters?.AccumulateGradients();
            loss += l.item<float>() / micros.Count; contrastive += cl.item<float>() / micros.Count; generation += gen.item<float>() / micros.Count;
        }
        return (loss, contrastive, generation);
    }

    // GCL over the step's whole batch with gradient caching (Gao et al. 2021, "Scaling Deep Contrastive Learning Batch
    // Size under Memory Limited Setup"), so the negatives come from every micro-batch, as the paper's global batch
    // (paper section 3.3). Embed every micro-batch without a graph; take L_cl over all the embeddings and keep its
    // gradient with respect to each one; then run each micro-batch again with its graph and push that gradient through
    // it together with its generation loss. The gradients equal those of one pass over the whole batch (the decoder
    // has no dropout, so both passes compute the same embeddings), for one extra forward pass per micro-batch.
    private (double Loss, double Contrastive, double Generation) AccumulateWithCachedEmbeddings(IReadOnlyList<CsftBatch> micros, MasterWeights? masters, Tensor tau)
    {
        var network = model.Network;
        var (contrastiveScale, generationScale) = LossWeights();
        using var scope = NewDisposeScope();
        var firsts = new List<Tensor>(micros.Count); var seconds = new List<Tensor>(micros.Count);
        using (no_grad())
            foreach (var micro in micros)
            {
                var embeddings = micro.Embeddings(network, micro.Hidden(network)); // [2b, E]
                long b = embeddings.shape[0] / 2;
                firsts.Add(embeddings.narrow(0, 0, b));
                seconds.Add(embeddings.narrow(0, b, b));
            }
        var all = cat([.. firsts, .. seconds]).detach().requires_grad_(true);  // [2B, E] laid out [A_1..A_B, B_1..B_B]
        long pairs = all.shape[0] / 2;
        var cl = GenerativeContrastiveLoss.Compute(all, tau);
        using Scalar contrastiveFactor = contrastiveScale.ToScalar(), generationFactor = (generationScale / micros.Count).ToScalar(); // held: see HeldScalars
        (cl * contrastiveFactor).backward();                                     // tau's gradient, and dL/d(embedding) in all.grad
        double contrastive = cl.item<float>(), generation = 0;

        long offset = 0;
        for (int m = 0; m < micros.Count; m++)
        {
            using var microScope = NewDisposeScope();
            long b = firsts[m].shape[0];
            var cached = cat([all.grad!.narrow(0, offset, b), all.grad!.narrow(0, pairs + offset, b)]); // [2b, E]
            offset += b;
            var hidden = micros[m].Hidden(network);
            var embeddings = micros[m].Embeddings(network, hidden);
            var gen = GenerationLoss.Compute(network.Backbone, hidden, micros[m].LabelRows, micros[m].LabelPositions, micros[m].Labels, options.GenerationLossAverage);
            (embeddings * cached).sum().Plus(gen * generationFactor).backward();
            masters?.AccumulateGradients();
            generation += gen.item<float>() / micros.Count;
        }
        return (contrastiveScale * contrastive + generationScale * generation, contrastive, generation);
    }

    // One forward pass for both losses: hidden states feed the embedding (GCL) and the output tokens (CSFT). Both
    // losses are computed in float32: the embeddings and logits are cast, and tau is its float32 master when mixed.
    private (Tensor Loss, Tensor Contrastive, Tensor Generation) Loss(CsftBatch batch, Tensor tau)
    {
        var network = model.Network;
        var hidden = batch.Hidden(network);                                                 // [2B, L, D]
        var embeddings = batch.Embeddings(network, hidden);                                 // [2B, E]
        var cl = GenerativeContrastiveLoss.Compute(embeddings, tau);
        var gen = GenerationLoss.Compute(network.Backbone, hidden, batch.LabelRows, batch.LabelPositions, batch.Labels, options.GenerationLossAverage);
        var (contrastiveWeight, generationWeight) = LossWeights();
        using Scalar contrastiveFactor = contrastiveWeight.ToScalar(), generationFactor = generationWeight.ToScalar(); // held: see HeldScalars
        return ((cl * contrastiveFactor).Plus(gen * generationFactor), cl, gen);
    }

    // L = (w L_cl + alpha L_gen) / (1 + alpha) (paper section 3.4) as the weights of its two parts, the one place the
    // mix is written: Loss sums the weighted parts, and the cached path scales each part's gradient by its weight.
    private (double Contrastive, double Generation) LossWeights() =>
        (options.ContrastiveWeight / (1 + options.Alpha), options.Alpha / (1 + options.Alpha));

    private double ValidationLoss(List<NotePair> heldOut, int batch, Device device, Tensor tau)
    {
        var network = model.Network;
        network.eval();
        double total = 0; int count = 0;
        using (no_grad())
            for (int start = 0; start + 2 <= heldOut.Count; start += batch)
            {
                var chunk = heldOut.Skip(start).Take(batch).ToList();
                if (chunk.Count < 2) break;
                using var scope = NewDisposeScope();
                using var csft = CsftBatch.Build(model, chunk, options, new Random(Mix(options.Seed, -1 - start)), device);
                total += Loss(csft, tau).Loss.item<float>() * chunk.Count;
                count += chunk.Count;
            }
        network.train();
        return total / count;
    }

    private void AddLora(NoteLLMNetwork network)
    {
        if (network.Backbone.named_modules().Any(m => m.module is DecoderLinear { HasLora: true })) return; // already added
        foreach (var p in network.Backbone.parameters()) p.requires_grad = false;
        int adapted = 0;
        foreach (var (name, module) in network.Backbone.named_modules())
            if (module is DecoderLinear linear && options.LoraTargets.Any(t => name.EndsWith("." + t) || name == t))
            {
                linear.AddLora(options.LoraRank, options.LoraAlpha);
                adapted++;
            }
        if (adapted == 0)
            throw new ArgumentException($"LoraTargets [{string.Join(", ", options.LoraTargets)}] match no projection of the decoder; use names such as q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj (LLaMA family) or query, key, value, dense (BERT).");
        network.Backbone.TokenEmbedding.weight!.requires_grad = true; // so [EMB] and other added tokens learn
        log($"LoRA rank {options.LoraRank} on {adapted} projections; base weights frozen except token embeddings");
    }

    // AdamW over the float32 masters: one group at the full rate, or, with PretrainedLearningRateShare below 1, the
    // backbone's pretrained weights and the [EMB] projection (it starts as a rotation of the pretrained read-out, so a fast
    // projection would skew the encoder's geometry as much as fast encoder weights) in a group of their own at that share
    private (AdamW Optimizer, double[] Shares) Optimizer(NoteLLMNetwork network, List<Parameter> trainable, MasterWeights masters)
    {
        if (options.PretrainedLearningRateShare == 1.0)
            return (optim.AdamW(masters.Parameters, lr: options.LearningRate, weight_decay: options.WeightDecay), [1.0]);
        var added = network.Backbone.AddedParameters.Select(p => p.Handle).ToHashSet();
        var pretrained = network.Backbone.parameters().Select(p => p.Handle).Where(h => !added.Contains(h))
            .Append(network.EmbeddingProjection.Weight.Handle).ToHashSet();
        var groups = trainable.Select((p, i) => (Pretrained: pretrained.Contains(p.Handle), Master: masters.Parameters[i])).ToList();
        var optimizer = optim.AdamW(
            [
                new AdamW.ParamGroup(groups.Where(g => g.Pretrained).Select(g => g.Master), lr: options.LearningRate * options.PretrainedLearningRateShare, weight_decay: options.WeightDecay),
                new AdamW.ParamGroup(groups.Where(g => !g.Pretrained).Select(g => g.Master), lr: options.LearningRate, weight_decay: options.WeightDecay),
            ], lr: options.LearningRate, weight_decay: options.WeightDecay);
        return (optimizer, [options.PretrainedLearningRateShare, 1.0]);
    }

    // What a checkpoint was written for, so that no other run resumes it: the options; every note as training reads it
    // (text, hashtags, category: an edited category changes the run); and the model training started from (backbone
    // config, tokenizer, prompts, read-out, dtype: other prompt limits or another precision are other runs), with its
    // starting weights when FingerprintsStartingWeights says so. Hashed as it goes; null without a checkpoint folder.
    // The validation pairs given, cleaned as the training pairs are; what cleaning dropped is logged, and so is a set
    // too small to validate on (the loss needs 2 pairs: one is the other's in-batch negative).
    private List<NotePair> CleanValidation(IEnumerable<NotePair> validation)
    {
        var (kept, report) = TrainingData.Clean(validation, hasNoText: model.Prompts.HasNoText);
        log($"validation data: {report}");
        if (kept.Count < 2)
            log($"warning: {kept.Count} validation pair(s) remain after cleaning; at least 2 are needed, so there is no validation loss and no best weights are kept");
        return kept;
    }

    private string? Fingerprint(List<NotePair> train, List<NotePair> heldOut, List<NoteText> generationNotes)
    {
        if (options.CheckpointDirectory is null) return null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string text)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(text));
            hash.AppendData("\n"u8);
        }
        static string Note(string? id, NoteText n) => $"{TrainingData.Key(id, n)}|{n.Title}|{n.Content}|{string.Join('\t', n.Hashtags)}|{n.Category}";

        Add(JsonSerializer.Serialize(options with { CheckpointDirectory = null, LogEverySteps = 1, CheckpointEverySteps = 1 }));
        foreach (var p in train) Add($"pair {Note(p.FirstId, p.First)} {Note(p.SecondId, p.Second)}");
        foreach (var p in heldOut) Add($"validation {Note(p.FirstId, p.First)} {Note(p.SecondId, p.Second)}");
        foreach (var n in generationNotes) Add($"generation {Note(null, n)}");

        Add(model.Backbone.ToHuggingFaceJson());
        Add($"tokenizer {model.Tokenizer.Kind}");
        foreach (var (name, bytes) in model.Tokenizer.Files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            Add(name);
            hash.AppendData(bytes);
        }
        Add(JsonSerializer.Serialize(model.Prompts.Templates));
        Add($"{model.Prompts.Limits} {model.Network.Readout} {model.Backbone.Dtype} {model.EmbeddingDimension}");
        if (FingerprintsStartingWeights)
            using (no_grad())
                foreach (var (name, tensor) in model.Network.state_dict())
                {
                    Add(name);
                    using var host = tensor.detach().cpu().contiguous();
                    hash.AppendData(host.bytes);
                }
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    internal static int Mix(int seed, int value) => (int)(StableHash(seed, value.ToString()) & 0x7fffffff);

    private static ulong StableHash(int seed, string text)
    {
        ulong h = 14695981039346656037UL ^ (ulong)(uint)seed;
        foreach (char c in text) { h ^= c; h *= 1099511628211UL; }
        return h;
    }
}
