using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using TorchSharp;
using LRScheduler = TorchSharp.torch.optim.lr_scheduler.LRScheduler;

namespace ReproducibleBlock;

/// <summary>
/// What a <see cref="TrainingRun"/> saves besides the generators and samplers: the model, the optimizers, the learning
/// rate schedulers and the user's own state, each as bytes in a checkpoint section.
/// </summary>
internal sealed class TrackedState
{
    private static readonly FieldInfo? StepCount = typeof(LRScheduler).GetField("_step_count", BindingFlags.Instance | BindingFlags.NonPublic);

    private readonly List<(string Name, torch.nn.Module Module)> _modules = [];
    private readonly List<TorchSharp.Modules.OptimizerHelper> _optimizers = [];
    private readonly List<(LRScheduler Scheduler, int Initial)> _schedulers = []; // steps its constructor made
    private readonly List<(string Name, Func<byte[]> Save, Action<byte[]> Load)> _custom = [];

    public bool IsEmpty => _modules.Count == 0 && _optimizers.Count == 0 && _schedulers.Count == 0 && _custom.Count == 0;

    private torch.Tensor? _probe;

    private bool _probeHasGradient;

    /// <summary>
    /// A fingerprint of the smallest trainable parameter of the tracked modules (a bias, usually) and of its gradient:
    /// one of them changes when a batch is trained (the gradient also when the step is skipped, accumulating, or the
    /// learning rate is 0), so a checkpoint asked for in a batch's body can tell whether that batch was trained yet.
    /// The parameter is the smallest of those that have a gradient, once one has: a parameter that no forward uses (an
    /// auxiliary head) never changes. Null when no module is tracked.
    /// </summary>
    public ulong? TrainingMark()
    {
        if (!_probeHasGradient)
        {
            torch.Tensor[] trainable = [.. _modules.SelectMany(m => m.Module.parameters()).Where(p => p.requires_grad)];
            torch.Tensor? withGradient = trainable.Where(p => p.grad is not null).MinBy(p => p.NumberOfElements);
            _probeHasGradient = withGradient is not null;
            _probe = withGradient ?? trainable.MinBy(p => p.NumberOfElements);
        }
        if (_probe is null)
            return null;
        using torch.Tensor onCpu = _probe.detach().cpu().contiguous();
        ulong mark = System.IO.Hashing.XxHash3.HashToUInt64(onCpu.bytes);
        if (_probe.grad is { } grad)
        {
            using torch.Tensor gradient = grad.detach().cpu().contiguous();
            mark = System.IO.Hashing.XxHash3.HashToUInt64(gradient.bytes, unchecked((long)mark));
        }
        return mark;
    }

    public void Add(string name, torch.nn.Module module)
    {
        CheckNew(name);
        if (_modules.Any(m => ReferenceEquals(m.Module, module)))
            throw new ArgumentException($"This module is tracked already, as '{_modules.First(m => ReferenceEquals(m.Module, module)).Name}'.", nameof(module));
        _modules.Add((name, module));
    }

    public void Add(TorchSharp.Modules.OptimizerHelper optimizer)
    {
        if (_optimizers.Contains(optimizer))
            throw new ArgumentException("This optimizer is tracked already.", nameof(optimizer));
        _optimizers.Add(optimizer);
    }

    public void Add(LRScheduler scheduler)
    {
        if (scheduler is torch.optim.lr_scheduler.impl.ReduceLROnPlateau)
        {
            throw new NotSupportedException(
                "ReduceLROnPlateau keeps state that TorchSharp 0.107 does not expose (the best metric, the epochs without improvement, the cooldown), "
                + "so a resumed run could not continue it exactly. Track your own copy of that state with Track(name, save, load), or use a scheduler "
                + "stepped with step() (StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR, OneCycleLR, ...), which a checkpoint replays.");
        }
        if (StepCount is null)
        {
            throw new NotSupportedException(
                "This TorchSharp's learning rate schedulers do not keep the step count this library reads to replay them (LRScheduler._step_count); "
                + "track the schedule's state yourself with Track(name, save, load).");
        }
        if (_schedulers.Any(t => ReferenceEquals(t.Scheduler, scheduler)))
            throw new ArgumentException("This scheduler is tracked already.", nameof(scheduler));
        _schedulers.Add((scheduler, Steps(scheduler)));
    }

    public void Add(string name, Func<byte[]> save, Action<byte[]> load)
    {
        CheckNew(name);
        _custom.Add((name, save, load));
    }

    private void CheckNew(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_modules.Any(m => m.Name == name) || _custom.Any(c => c.Name == name))
            throw new ArgumentException($"Something is tracked as '{name}' already: give each tracked thing its own name.", nameof(name));
    }

    /// <summary>The manifest entries that a resumed run's objects must match.</summary>
    public IEnumerable<(string Key, string Value)> Describe()
    {
        foreach ((string name, torch.nn.Module module) in _modules)
            yield return ("module." + name, Signature(module));
        yield return ("optimizers", _optimizers.Count.ToString(CultureInfo.InvariantCulture));
        for (int i = 0; i < _schedulers.Count; i++)
            yield return ($"scheduler.{i}", $"{_schedulers[i].Scheduler.GetType().Name} {(Steps(_schedulers[i].Scheduler) - _schedulers[i].Initial).ToString(CultureInfo.InvariantCulture)}");
        yield return ("states", string.Join(",", _custom.Select(c => c.Name)));
    }

    /// <summary>Every parameter and buffer, by name, with its shape and type: what a checkpoint's module must have.</summary>
    private static string Signature(torch.nn.Module module) =>
        string.Join(";", module.named_parameters().Select(p => $"{p.name}:{Shape(p.parameter)}")
            .Concat(module.named_buffers().Select(b => $"{b.name}:{Shape(b.buffer)}")));

    private static string Shape(torch.Tensor tensor) => $"{tensor.dtype}[{string.Join("x", tensor.shape)}]";

    private static int Steps(LRScheduler scheduler) => (int)StepCount!.GetValue(scheduler)!;

    public IEnumerable<(string Name, byte[] Bytes)> Save()
    {
        foreach ((string name, torch.nn.Module module) in _modules)
            yield return ("module." + name, Bytes(writer => module.save(writer)));
        for (int i = 0; i < _optimizers.Count; i++)
            yield return ($"optimizer.{i}", Bytes(_optimizers[i].save_state_dict));
        foreach ((string name, Func<byte[]> save, _) in _custom)
            yield return ("state." + name, save() ?? throw new InvalidOperationException($"The save function of the tracked state '{name}' returned null."));
    }

    private static byte[] Bytes(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            write(writer);
        return stream.ToArray();
    }

    /// <summary>Refuses a checkpoint whose tracked things differ from this run's, naming the first difference.</summary>
    public void CheckMatches(IReadOnlyDictionary<string, string> manifest, string file)
    {
        foreach ((string key, string value) in Describe())
        {
            string? theirs = manifest.TryGetValue(key, out string? v) ? v : null;
            if (key.StartsWith("scheduler.", StringComparison.Ordinal))
            {
                string mine = value.Split(' ')[0];
                if (theirs?.Split(' ')[0] != mine)
                    throw Mismatch(file, $"scheduler {key["scheduler.".Length..]}", theirs?.Split(' ')[0] ?? "none", mine);
                continue;
            }
            if (theirs != value)
            {
                string what = key.StartsWith("module.", StringComparison.Ordinal) ? $"the model '{key["module.".Length..]}'" : key;
                (string there, string here) = key.StartsWith("module.", StringComparison.Ordinal) ? FirstDifference(theirs ?? "", value) : (theirs ?? "none", value);
                throw Mismatch(file, what, there, here);
            }
        }
        if (manifest.Keys.Count(k => k.StartsWith("scheduler.", StringComparison.Ordinal)) != _schedulers.Count)
            throw Mismatch(file, "the number of schedulers", manifest.Keys.Count(k => k.StartsWith("scheduler.", StringComparison.Ordinal)).ToString(CultureInfo.InvariantCulture), _schedulers.Count.ToString(CultureInfo.InvariantCulture));
        foreach (string key in manifest.Keys.Where(k => k.StartsWith("module.", StringComparison.Ordinal)))
        {
            if (!_modules.Any(m => "module." + m.Name == key))
                throw Mismatch(file, "the tracked modules", key["module.".Length..], "no module of that name");
        }
    }

    private static (string There, string Here) FirstDifference(string theirs, string mine)
    {
        string[] a = theirs.Split(';'), b = mine.Split(';');
        for (int i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            string x = i < a.Length ? a[i] : "(nothing)", y = i < b.Length ? b[i] : "(nothing)";
            if (x != y)
                return (x, y);
        }
        return (theirs, mine);
    }

    private static InvalidDataException Mismatch(string file, string what, string there, string here) =>
        new($"{file} was written by another run: {what} is {there} there and {here} here. Resume with the same code, model and data, or start afresh in another checkpoint folder.");

    /// <summary>
    /// Puts every tracked thing back: the schedulers are replayed (step() as often as the run had called it, on their
    /// optimizers' fresh learning rates), then the modules, the optimizers and the user's state are loaded.
    /// </summary>
    public void Load(IReadOnlyDictionary<string, byte[]> sections, IReadOnlyDictionary<string, string> manifest, string file)
    {
        for (int i = 0; i < _schedulers.Count; i++)
        {
            (LRScheduler scheduler, int initial) = _schedulers[i];
            if (Steps(scheduler) != initial)
            {
                throw new InvalidOperationException(
                    $"Scheduler {i} ({scheduler.GetType().Name}) was stepped before Resume; Resume replays its steps on a fresh scheduler. Call Resume before the epoch loop.");
            }
            int steps = int.Parse(manifest[$"scheduler.{i}"].Split(' ')[1], NumberStyles.None, CultureInfo.InvariantCulture);
            for (int step = 0; step < steps; step++)
                scheduler.step();
        }
        foreach ((string name, torch.nn.Module module) in _modules)
            Load(sections, "module." + name, file, reader => module.load(reader));
        for (int i = 0; i < _optimizers.Count; i++)
            Load(sections, $"optimizer.{i}", file, _optimizers[i].load_state_dict);
        foreach ((string name, _, Action<byte[]> load) in _custom)
        {
            if (!sections.TryGetValue("state." + name, out byte[]? bytes))
                throw Mismatch(file, $"the tracked state '{name}'", "missing", "tracked");
            load(bytes);
        }
    }

    private static void Load(IReadOnlyDictionary<string, byte[]> sections, string section, string file, Action<BinaryReader> load)
    {
        if (!sections.TryGetValue(section, out byte[]? bytes))
            throw new InvalidDataException($"{file} has no section '{section}'.");
        using var reader = new BinaryReader(new MemoryStream(bytes));
        load(reader);
    }
}
