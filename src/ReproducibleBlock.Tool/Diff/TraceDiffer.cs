using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ReproducibleBlock.Tool.Traces;

namespace ReproducibleBlock.Tool.Diff;

/// <summary>
/// Compares two traces event by event (the README's trace format, "How diff compares two traces"): finds the first divergence
/// and its kind, explains an entry divergence, counts how the later blocks compare, and collects the environment
/// differences. Pure logic: it reads the two traces to their ends, streaming, and prints nothing.
/// </summary>
public static class TraceDiffer
{
    /// <summary>Compares the trace files at <paramref name="pathA"/> and <paramref name="pathB"/>.</summary>
    /// <exception cref="TraceFormatException">A file is not a readable trace.</exception>
    public static TraceDiff Diff(string pathA, string pathB)
    {
        using TraceReader a = TraceReader.Open(pathA);
        using TraceReader b = TraceReader.Open(pathB);
        return Diff(a, b);
    }

    /// <summary>Compares two traces, reading both to their ends.</summary>
    /// <exception cref="TraceFormatException">A line of either breaks the format.</exception>
    public static TraceDiff Diff(TraceReader a, TraceReader b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return new Comparison(a, b).Run();
    }

    /// <summary>One trace as the comparison walks it: its reader, the seeding in force, its open blocks.</summary>
    private sealed class Side(TraceReader reader, string label)
    {
        public TraceReader Reader { get; } = reader;
        public string Label { get; } = label;
        public SeedEvent? Seed { get; private set; }
        public Queue<SeedEvent> UnpairedSeeds { get; } = new();
        public long SeedCount { get; private set; }
        public OpenBlocks Open { get; } = new();

        /// <summary>Makes <paramref name="seed"/> the seeding in force.</summary>
        public void Seeded(SeedEvent seed)
        {
            Seed = seed;
            SeedCount++;
        }

        public TraceSide Summary() =>
            new(Reader.File, Reader.Header, Reader.IsComplete, Reader.EventCount, Reader.LastLine, Seed?.Derivation);
    }

    private sealed class Comparison(TraceReader a, TraceReader b)
    {
        private readonly Side _a = new(a, "A");
        private readonly Side _b = new(b, "B");
        private readonly List<EnvironmentDifference> _environment = [];
        private readonly HashSet<string> _environmentKeys = new(StringComparer.Ordinal);
        private string? _rootSeedWarning, _derivationWarning;
        private EnterEvent? _firstIsolatedA, _firstIsolatedB;
        private long _isolatedEntries;

        public TraceDiff Run()
        {
            Divergence? divergence = FindFirstDivergence();
            LaterBlocks later = divergence is null
                ? new LaterBlocks(0, 0, CountStop.NotCounted, null, null)
                : divergence.Kind switch
                {
                    DivergenceKind.Structure => new LaterBlocks(0, 0, CountStop.Structure, divergence.LineA, divergence.LineB),
                    DivergenceKind.Truncated => new LaterBlocks(0, 0, CountStop.Truncated, _a.Reader.LastLine, _b.Reader.LastLine),
                    _ => CountLaterBlocks(),
                };
            // The rest of both traces: their seeds (the environment), their completeness, and every line checked.
            while (Next(_a) is not null) { }
            while (Next(_b) is not null) { }
            return new TraceDiff(_a.Summary(), _b.Summary(), divergence, later, _environment, Warnings(divergence));
        }

        private Divergence? FindFirstDivergence()
        {
            while (true)
            {
                TraceEvent? ea = Next(_a), eb = Next(_b);
                if (ea is null && eb is null)
                    return null;
                if (ea is null)
                    return Truncated(_a, _b, eb!);
                if (eb is null)
                    return Truncated(_b, _a, ea);
                Divergence? divergence = Compare(ea, eb);
                _a.Open.Follow(ea);
                _b.Open.Follow(eb);
                if (divergence is not null)
                    return divergence;
            }
        }

        private Divergence? Compare(TraceEvent ea, TraceEvent eb)
        {
            if (StructureDifference(ea, eb) is { } structure)
                return structure;
            switch (ea, eb)
            {
                case (EnterEvent x, EnterEvent y) when x.State != y.State:
                    return Entry(x, y);
                case (EnterEvent x, EnterEvent y) when x.Before != y.Before:
                    // The same start although the stream around it differs: the block is isolated from what differs.
                    _isolatedEntries++;
                    (_firstIsolatedA, _firstIsolatedB) = (_firstIsolatedA ?? x, _firstIsolatedB ?? y);
                    return null;
                case (ExitEvent x, ExitEvent y) when x.State != y.State:
                    return Inside(x, y);
                case (MarkEvent x, MarkEvent y) when !string.Equals(x.Fingerprint, y.Fingerprint, StringComparison.Ordinal):
                    EnterEvent? block = _a.Open.Find(x.Path);
                    string where = x.Path.Length == 0 ? "at the top level" : $"in block {EventText.Block(block?.Name, x.Path)}";
                    return new Divergence(DivergenceKind.Mark, x.Name, x.Path, x.Line, y.Line,
                        $"Mark '{x.Name}' {where} has another fingerprint: the marked tensors differ, while every block state " +
                        "before it agreed. The computation since the last block boundary is nondeterministic (threads, a " +
                        "nondeterministic kernel) or its inputs differ outside any generator (data, a random source outside torch).",
                        x.Fingerprint, y.Fingerprint, null);
                default:
                    return null;
            }
        }

        /// <summary>A structure divergence when the events differ in ev, path, name, kind or restore; null when they line up.</summary>
        private static Divergence? StructureDifference(TraceEvent ea, TraceEvent eb)
        {
            var differences = new List<string>();
            void Field(string field, string? x, string? y)
            {
                if (!string.Equals(x, y, StringComparison.Ordinal))
                    differences.Add($"{field} (A {x ?? "null"}, B {y ?? "null"})");
            }
            switch (ea, eb)
            {
                case (EnterEvent x, EnterEvent y):
                    Field("path", x.Path, y.Path);
                    Field("name", x.Name, y.Name);
                    Field("kind", x.Kind.ToText(), y.Kind.ToText());
                    Field("restore", x.Restore ? "true" : "false", y.Restore ? "true" : "false");
                    break;
                case (ExitEvent x, ExitEvent y):
                    Field("path", x.Path, y.Path);
                    Field("name", x.Name, y.Name);
                    break;
                case (MarkEvent x, MarkEvent y):
                    Field("path", x.Path, y.Path);
                    Field("name", x.Name, y.Name);
                    break;
                case (EndEvent, EndEvent):
                    break;
                default:
                    differences.Add($"ev (A {EventName(ea)}, B {EventName(eb)})");
                    break;
            }
            if (differences.Count == 0)
                return null;
            (string? name, string? path) = NameAndPath(ea) ?? NameAndPath(eb) ?? (null, null);
            string detail = $"The runs take different paths here: A {EventText.Describe(ea)}, B {EventText.Describe(eb)}. " +
                $"They differ in {string.Join(", ", differences)}.";
            if (ea is EndEvent ^ eb is EndEvent)
                detail += $" {(ea is EndEvent ? "A" : "B")} is complete here, while {(ea is EndEvent ? "B" : "A")} has more events.";
            return new Divergence(DivergenceKind.Structure, name, path, ea.Line, eb.Line, detail,
                EventText.WithLine(ea), EventText.WithLine(eb), null);
        }

        private static string EventName(TraceEvent read) => read switch
        {
            EnterEvent => "enter",
            ExitEvent => "exit",
            MarkEvent => "mark",
            EndEvent => "end",
            _ => "seed",
        };

        private static (string? Name, string? Path)? NameAndPath(TraceEvent read) => read switch
        {
            EnterEvent e => (e.Name, e.Path),
            ExitEvent e => (e.Name, e.Path),
            MarkEvent e => (e.Name, e.Path),
            _ => null,
        };

        private Divergence Entry(EnterEvent x, EnterEvent y)
        {
            (EntryCause cause, string why) = EntryCauseOf(x, y);
            string detail = $"Block {EventText.Block(x.Name, x.Path)} starts from another state in A than in B " +
                $"({Generators(x.State, y.State)}). Cause: {why}.";
            return new Divergence(DivergenceKind.Entry, x.Name, x.Path, x.Line, y.Line, detail, x.State.ToString(), y.State.ToString(), cause);
        }

        private (EntryCause Cause, string Why) EntryCauseOf(EnterEvent x, EnterEvent y)
        {
            SeedEvent? sa = _a.Seed, sb = _b.Seed;
            if (sa?.RootSeed != sb?.RootSeed)
                return (EntryCause.RootSeed, $"another root seed: A {SeedText(sa)}, B {SeedText(sb)}");
            if (!string.Equals(sa?.Derivation, sb?.Derivation, StringComparison.Ordinal))
                return (EntryCause.Derivation, $"another derivation: A {sa?.Derivation ?? "none"}, B {sb?.Derivation ?? "none"}");
            List<EnvironmentDifference> environment = EnvironmentDifferences(sa?.Environment, sb?.Environment);
            if (environment.Count > 0)
            {
                // Named as the cause (the format's order), but an enclosing state that differs too is said as well.
                string also = x.Before != y.Before ? "; the enclosing state (before) differs too" : "";
                return (EntryCause.Environment, "the environment differs in " +
                    string.Join("; ", environment.Select(d => $"{d.Key} (A {d.A ?? "absent"}, B {d.B ?? "absent"})")) + also);
            }
            if (x.Kind == BlockKind.Continuing)
            {
                return (EntryCause.StreamState, "the stream state this continuing block resumed differs: its owner's earlier " +
                    "calls left another state (look at the first divergence of this stream's earlier calls, or at what runs inside it)");
            }
            if (x.Before != y.Before)
            {
                return (EntryCause.EnclosingState, $"the enclosing state differs (before: A {x.Before}; B {y.Before}): " +
                    "something earlier in the enclosing block drew differently");
            }
            return (EntryCause.Unexplained, "seeding, environment and enclosing state are the same in both traces, so the traces " +
                "do not say why (another build of the library or of the code that opens the block?)");
        }

        /// <summary>Which generators differ: "cpu differs", "cpu and managed differ".</summary>
        private static string Generators(GeneratorFingerprints a, GeneratorFingerprints b)
        {
            IReadOnlyList<string> names = a.DifferingGenerators(b);
            return $"{string.Join(" and ", names)} differ{(names.Count == 1 ? "s" : "")}";
        }

        private static string SeedText(SeedEvent? seed) => seed is null
            ? "not seeded (no seed event before this block)"
            : $"{seed.RootSeed.ToString(CultureInfo.InvariantCulture)} (seed event on line {seed.Line})";

        private Divergence Inside(ExitEvent x, ExitEvent y)
        {
            string detail = $"Block {EventText.Block(x.Name, x.Path)} was entered with the same state in both runs but left " +
                $"with another ({Generators(x.State, y.State)}): something in this " +
                "block is nondeterministic (threads drawing from one generator, a nondeterministic kernel, or a random source " +
                "outside torch such as System.Random, time or a data loader). This is the block to look at.";
            return new Divergence(DivergenceKind.Inside, x.Name, x.Path, x.Line, y.Line, detail, x.State.ToString(), y.State.ToString(), null);
        }

        private static Divergence Truncated(Side stopped, Side goesOn, TraceEvent next)
        {
            (string? name, string? path) = NameAndPath(next) ?? (null, null);
            string cut = stopped.Reader.Warnings.Any(w => w.Contains("cut short", StringComparison.Ordinal)) ? " (its last line cut short)" : "";
            string detail = $"{stopped.Label} ends after line {stopped.Reader.LastLine}{cut} without an end event: its run stopped " +
                $"early (crashed, killed, or still running), {stopped.Open.DescribeWhere()}. {goesOn.Label} goes on: line {next.Line} " +
                $"{EventText.Describe(next)}.";
            string ended = $"no more events (no end event; the trace stops after line {stopped.Reader.LastLine})";
            bool aStopped = stopped.Label == "A";
            return new Divergence(DivergenceKind.Truncated, name, path,
                aStopped ? null : next.Line, aStopped ? next.Line : null, detail,
                aStopped ? ended : EventText.WithLine(next), aStopped ? EventText.WithLine(next) : ended, null);
        }

        /// <summary>After the first divergence: the later enter/exit pairs, as long as the structure lines up.</summary>
        private LaterBlocks CountLaterBlocks()
        {
            long agree = 0, differ = 0;
            var entered = new Dictionary<string, Stack<bool>>(StringComparer.Ordinal); // path -> did the entry agree
            while (true)
            {
                TraceEvent? ea = Next(_a), eb = Next(_b);
                if (ea is null && eb is null)
                    return new LaterBlocks(agree, differ, CountStop.End, _a.Reader.LastLine, _b.Reader.LastLine);
                if (ea is null || eb is null)
                    return new LaterBlocks(agree, differ, CountStop.Truncated, ea?.Line ?? _a.Reader.LastLine, eb?.Line ?? _b.Reader.LastLine);
                if (StructureDifference(ea, eb) is not null)
                    return new LaterBlocks(agree, differ, CountStop.Structure, ea.Line, eb.Line);
                _a.Open.Follow(ea);
                _b.Open.Follow(eb);
                switch (ea, eb)
                {
                    case (EnterEvent x, EnterEvent y):
                        if (!entered.TryGetValue(x.Path, out Stack<bool>? open))
                            entered[x.Path] = open = new Stack<bool>();
                        open.Push(x.State == y.State);
                        break;
                    case (ExitEvent x, ExitEvent y) when entered.TryGetValue(x.Path, out Stack<bool>? pending) && pending.Count > 0:
                        if (pending.Pop() && x.State == y.State)
                            agree++;
                        else
                            differ++;
                        break;
                }
            }
        }

        /// <summary>The next event of <paramref name="side"/> that is not a seed; seeds on the way are taken in.</summary>
        private TraceEvent? Next(Side side)
        {
            while (side.Reader.Read() is { } read)
            {
                if (read is not SeedEvent seed)
                    return read;
                side.Seeded(seed);
                OnSeed(side, seed);
            }
            return null;
        }

        private void OnSeed(Side side, SeedEvent seed)
        {
            Side other = side == _a ? _b : _a;
            if (other.UnpairedSeeds.Count == 0)
            {
                side.UnpairedSeeds.Enqueue(seed);
                return;
            }
            SeedEvent otherSeed = other.UnpairedSeeds.Dequeue();
            (SeedEvent sa, SeedEvent sb) = side == _a ? (seed, otherSeed) : (otherSeed, seed);
            foreach (EnvironmentDifference difference in EnvironmentDifferences(sa.Environment, sb.Environment))
            {
                if (_environmentKeys.Add(difference.Key))
                    _environment.Add(difference);
            }
            if (sa.RootSeed != sb.RootSeed)
                _rootSeedWarning ??= $"the runs were seeded with other root seeds: A {SeedText(sa)}, B {SeedText(sb)}";
            if (!string.Equals(sa.Derivation, sb.Derivation, StringComparison.Ordinal))
                _derivationWarning ??= $"the runs use other derivations: A {sa.Derivation} (line {sa.Line}), B {sb.Derivation} (line {sb.Line})";
        }

        private static List<EnvironmentDifference> EnvironmentDifferences(
            IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b)
        {
            var differences = new List<EnvironmentDifference>();
            a ??= new Dictionary<string, string>();
            b ??= new Dictionary<string, string>();
            foreach ((string key, string value) in a)
            {
                if (IsSeedingKey(key))
                    continue;
                string? other = b.TryGetValue(key, out string? v) ? v : null;
                if (!string.Equals(value, other, StringComparison.Ordinal))
                    differences.Add(new EnvironmentDifference(key, value, other));
            }
            foreach ((string key, string value) in b)
            {
                if (!a.ContainsKey(key) && !IsSeedingKey(key))
                    differences.Add(new EnvironmentDifference(key, null, value));
            }
            return differences;
        }

        /// <summary>
        /// The environment record repeats the seed event's root seed and derivation (<c>ToPairs</c> includes them once
        /// seeded): those are compared as seeding, not as environment.
        /// </summary>
        private static bool IsSeedingKey(string key) => key is "RootSeed" or "Derivation";

        private List<string> Warnings(Divergence? divergence)
        {
            var warnings = new List<string>();
            warnings.AddRange(_a.Reader.Warnings);
            warnings.AddRange(_b.Reader.Warnings);
            if (divergence is null && !_a.Reader.IsComplete && !_b.Reader.IsComplete)
            {
                warnings.Add($"both traces stop early at the same point, without an end event (A after line {_a.Reader.LastLine}, " +
                    $"B after line {_b.Reader.LastLine}): they agree as far as they go, but both are incomplete");
            }
            if (_a.SeedCount != _b.SeedCount)
                warnings.Add($"A has {_a.SeedCount} seed event(s), B has {_b.SeedCount}: the runs were seeded a different number of times");
            if (_firstIsolatedA is { } isolated && _firstIsolatedB is { } other)
            {
                warnings.Add($"the enclosing stream differed before {_isolatedEntries} block entr{(_isolatedEntries == 1 ? "y" : "ies")} whose own state agreed, first " +
                    $"block {EventText.Block(isolated.Name, isolated.Path)} (A line {isolated.Line}, before {isolated.Before}; B line {other.Line}, before {other.Before}): " +
                    "something outside the blocks drew differently, and the blocks were isolated from it");
            }
            // Seeding differences the divergence already gives as its cause are not repeated.
            if (_rootSeedWarning is not null && divergence?.Cause is not EntryCause.RootSeed)
                warnings.Add(_rootSeedWarning);
            if (_derivationWarning is not null && divergence?.Cause is not EntryCause.Derivation)
                warnings.Add(_derivationWarning);
            return warnings;
        }
    }
}
