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

        /// <summary>The environment in force: the last seed event's, with the changes of the environment events since.</summary>
        public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

        /// <summary>The woven assemblies' identities, by name, in order of their <c>code</c> events.</summary>
        public Dictionary<string, CodeEvent> Code { get; } = new(StringComparer.Ordinal);

        /// <summary>The draws the library refused, in order.</summary>
        public List<DrawEvent> Draws { get; } = [];

        public long PassiveCalls { get; set; }

        /// <summary>Exits with an output fingerprint, per path: which call of a module an output belongs to.</summary>
        public Dictionary<string, long> OutputCalls { get; } = new(StringComparer.Ordinal);

        /// <summary>Makes <paramref name="seed"/> the seeding in force.</summary>
        public void Seeded(SeedEvent seed)
        {
            Seed = seed;
            SeedCount++;
            Environment.Clear();
            foreach ((string key, string value) in seed.Environment)
                Environment[key] = value;
        }

        /// <summary>Counts an exit with an output; returns which call of its block it was (1 for the first).</summary>
        public long CountOutput(ExitEvent exit)
        {
            ref long calls = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(OutputCalls, exit.Path, out _);
            return ++calls;
        }

        public TraceSide Summary() =>
            new(Reader.File, Reader.Header, Reader.IsComplete, Reader.EventCount, Reader.LastLine, Seed?.Derivation, PassiveCalls, Draws.Count);
    }

    /// <summary>
    /// The first divergence as found, worded once the whole traces are read: whether the code differs is known only then
    /// (an assembly's <c>code</c> event comes with its first block), and a code change is worded as its cause.
    /// </summary>
    private sealed record Found(DivergenceKind Kind, long? LineA, long? LineB, Func<bool, Divergence> Describe);

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
            Found? found = FindFirstDivergence();
            (int drawsA, int drawsB) = (_a.Draws.Count, _b.Draws.Count); // the draws refused before the traces part
            LaterBlocks later = found is null
                ? new LaterBlocks(0, 0, CountStop.NotCounted, null, null)
                : found.Kind switch
                {
                    DivergenceKind.Structure => new LaterBlocks(0, 0, CountStop.Structure, found.LineA, found.LineB),
                    DivergenceKind.Truncated => new LaterBlocks(0, 0, CountStop.Truncated, _a.Reader.LastLine, _b.Reader.LastLine),
                    _ => CountLaterBlocks(),
                };
            // The rest of both traces: their seeds (the environment), code, completeness, and every line checked.
            while (Next(_a) is not null) { }
            while (Next(_b) is not null) { }
            List<CodeChange> codeChanges = CodeChanges();
            Divergence? divergence = found?.Describe(codeChanges.Count > 0);
            if (divergence is not null && (drawsA > 0 || drawsB > 0))
                divergence = DrawBefore(divergence, drawsA > 0 ? _a.Draws[0] : null, drawsB > 0 ? _b.Draws[0] : null);
            AddEnvironmentDifferences(EnvironmentDifferences(_a.Environment, _b.Environment));
            return new TraceDiff(_a.Summary(), _b.Summary(), divergence, later, _environment, Warnings(divergence, codeChanges), codeChanges);
        }

        private Found? FindFirstDivergence()
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
                Found? divergence = Compare(ea, eb);
                _a.Open.Follow(ea);
                _b.Open.Follow(eb);
                if (divergence is not null)
                    return divergence;
            }
        }

        private Found? Compare(TraceEvent ea, TraceEvent eb)
        {
            if (StructureDifference(ea, eb) is { } structure)
            {
                structure = structure with { Detail = structure.Detail + Inside(_a.Open) };
                return new Found(DivergenceKind.Structure, structure.LineA, structure.LineB, changed => structure with { FollowsCodeChange = changed });
            }
            switch (ea, eb)
            {
                case (EnterEvent x, EnterEvent y) when x.State != y.State:
                    (EntryCause cause, string why) = EntryCauseOf(x, y);
                    return new Found(DivergenceKind.Entry, x.Line, y.Line, changed => Entry(x, y, cause, why, changed));
                case (EnterEvent x, EnterEvent y) when x.Before != y.Before:
                    // The same start although the stream around it differs: the block is isolated from what differs.
                    _isolatedEntries++;
                    (_firstIsolatedA, _firstIsolatedB) = (_firstIsolatedA ?? x, _firstIsolatedB ?? y);
                    return null;
                case (ExitEvent x, ExitEvent y) when x.State != y.State:
                    return new Found(DivergenceKind.Inside, x.Line, y.Line, changed => Inside(x, y, changed));
                case (ExitEvent x, ExitEvent y) when x.Output is not null && y.Output is not null && _a.Reader.Header.Tensors && _b.Reader.Header.Tensors:
                    long call = _a.CountOutput(x);
                    _b.CountOutput(y);
                    if (string.Equals(x.Output, y.Output, StringComparison.Ordinal))
                        return null;
                    List<EnvironmentDifference> environment = EnvironmentDifferences(_a.Environment, _b.Environment);
                    EnterEvent? stray = _firstIsolatedA;
                    return new Found(DivergenceKind.Output, x.Line, y.Line, changed => Output(x, y, call, environment, stray, changed));
                case (MarkEvent x, MarkEvent y) when !string.Equals(x.Fingerprint, y.Fingerprint, StringComparison.Ordinal):
                    EnterEvent? block = _a.Open.Find(x.Path);
                    string where = x.Path.Length == 0 ? "at the top level" : $"in block {EventText.Block(block?.Name, x.Path)}";
                    return new Found(DivergenceKind.Mark, x.Line, y.Line, changed => new Divergence(DivergenceKind.Mark, x.Name, x.Path, x.Line, y.Line,
                        $"Mark '{x.Name}' {where} has another fingerprint: the marked tensors differ, while every block state before it agreed. " + (changed
                            ? "The code changed: the computation since the last block boundary is another one."
                            : "The computation since the last block boundary is nondeterministic (threads, a nondeterministic kernel) or its " +
                              "inputs differ outside any generator (data, a random source outside torch)."),
                        x.Fingerprint, y.Fingerprint, null, FollowsCodeChange: changed));
                default:
                    return null;
            }
        }

        /// <summary>The output divergence: a module's output differs while its stream, and every stream before it, agreed.</summary>
        private static Divergence Output(ExitEvent x, ExitEvent y, long call, List<EnvironmentDifference> environment, EnterEvent? stray, bool codeChanged)
        {
            string module = EventText.Block(x.Name, x.Path);
            string streams = stray is null
                ? "every random stream before it agreed"
                : $"its own random stream agreed (though the stream around block {EventText.Block(stray.Name, stray.Path)}, entered on line " +
                  $"{stray.Line}, had drawn differently before it was entered: look there too)";
            string why;
            if (codeChanged)
            {
                why = "The code changed: this module, or what feeds it outside any block, computes something else now.";
            }
            else
            {
                why = "Random streams agree; the computation differs: a nondeterministic kernel, a thread count, an uninitialised buffer " +
                    "(or a value from outside the generators: a clock, the data). ";
                why += environment.Count == 0
                    ? "The environments do not differ where it happens, so look inside this module's forward."
                    : $"The environments differ where it happens, in {string.Join(", ", environment.Select(d => d.Key))}: the first suspect{(environment.Count == 1 ? "" : "s")}.";
            }
            string detail = $"Module {module} gave another output on its call {call.ToString(CultureInfo.InvariantCulture)}, while {streams}: " +
                $"it is the first module whose output differs. {why}";
            return new Divergence(DivergenceKind.Output, x.Name, x.Path, x.Line, y.Line, detail, x.Output, y.Output, null,
                Step: call, Environment: environment, FollowsCodeChange: codeChanged);
        }

        /// <summary>
        /// A divergence after a draw the library refused: the draw is the divergence to report (what it drew depends on the
        /// thread schedule or the worker count), the traces' parting is its consequence.
        /// </summary>
        private static Divergence DrawBefore(Divergence then, DrawEvent? a, DrawEvent? b)
        {
            DrawEvent first = a ?? b!;
            string Text(DrawEvent draw) => $"{draw.Name} drew from torch's global generator {During(draw)} (line {draw.Line}, thread " +
                $"{draw.Thread.ToString(CultureInfo.InvariantCulture)}{(draw.ThreadName is { } n ? $" '{n}'" : "")}), and the library refused it";
            string who = (a, b) switch
            {
                ({ } x, { } y) => $"In A, {Text(x)}; in B, {Text(y)}.",
                ({ } x, null) => $"In A, {Text(x)}.",
                _ => $"In B, {Text(b!)}.",
            };
            string fix = first.Reason == "DataLoading"
                ? "draw from the sample's stream in GetTensor (var sample = sampler.Resolve(index); torch.rand(..., generator: sample.Generator))"
                : "draw only on the flow that owns the blocks, or only from streams of your own";
            string detail = $"{who} What such a draw takes depends on the thread schedule and the number of workers, so the runs cannot be " +
                $"compared past it: fix it first ({fix}). After it, the traces part: {DiffKindText(then.Kind)} at " +
                $"{EventText.Block(then.Name, then.Path ?? "")}.";
            return new Divergence(DivergenceKind.Draw, first.Name, first.Path, a?.Line, b?.Line, detail,
                a is null ? "(no refused draw)" : $"line {a.Line}: {a.Name}, {a.Detail}", b is null ? "(no refused draw)" : $"line {b.Line}: {b.Name}, {b.Detail}",
                null, FollowsCodeChange: then.FollowsCodeChange);
        }

        private static string During(DrawEvent draw) => draw.Reason switch
        {
            "DataLoading" => $"while {draw.Detail} loaded",
            "Fork" => $"on a thread forked off the flow that owns the blocks ({draw.Detail})",
            "OtherFlow" => $"on a thread that does not own the blocks ({draw.Detail})",
            _ => $"while woven calls ran on several threads at once ({draw.Detail})",
        };

        private static string DiffKindText(DivergenceKind kind) => kind switch
        {
            DivergenceKind.Structure => "structure",
            DivergenceKind.Entry => "entry",
            DivergenceKind.Inside => "inside",
            DivergenceKind.Mark => "mark",
            DivergenceKind.Output => "output",
            DivergenceKind.Draw => "draw",
            _ => "truncated",
        };

        /// <summary>The assemblies seen in both traces whose code events name another MVID, in A's order.</summary>
        private List<CodeChange> CodeChanges()
        {
            var changes = new List<CodeChange>();
            foreach ((string assembly, CodeEvent a) in _a.Code)
            {
                if (_b.Code.TryGetValue(assembly, out CodeEvent? b) && !string.Equals(a.Mvid, b.Mvid, StringComparison.OrdinalIgnoreCase))
                    changes.Add(new CodeChange(assembly, $"version {a.Version}, MVID {a.Mvid}", $"version {b.Version}, MVID {b.Mvid}", a.Line, b.Line));
            }
            return changes;
        }

        /// <summary>
        /// The blocks open where the runs part, outermost first, by name (" Both runs are inside Net..ctor › features
        /// there."): the runs agreed up to there, so A's are B's. A site's path is keys only; its names say where it is.
        /// </summary>
        private static string Inside(OpenBlocks open)
        {
            if (open.Count == 0)
                return " Both runs are at the top level there.";
            IEnumerable<string> names = open.ToList().Select(e => e.Name ?? "(unnamed)");
            return $" Both runs are inside {string.Join(" › ", names)} there.";
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

        private static Divergence Entry(EnterEvent x, EnterEvent y, EntryCause cause, string why, bool codeChanged)
        {
            if (codeChanged && cause is EntryCause.Unexplained or EntryCause.EnclosingState or EntryCause.StreamState)
            {
                // Seeding and environment agree: what differs is the code before this block (or the block's own, keyed by it).
                (cause, why) = (EntryCause.CodeChange, "the code changed (see the code differences): " + why);
            }
            string detail = $"Block {EventText.Block(x.Name, x.Path)} starts from another state in A than in B " +
                $"({Generators(x.State, y.State)}). Cause: {why}.";
            return new Divergence(DivergenceKind.Entry, x.Name, x.Path, x.Line, y.Line, detail, x.State.ToString(), y.State.ToString(), cause,
                FollowsCodeChange: codeChanged);
        }

        private (EntryCause Cause, string Why) EntryCauseOf(EnterEvent x, EnterEvent y)
        {
            SeedEvent? sa = _a.Seed, sb = _b.Seed;
            if (sa?.RootSeed != sb?.RootSeed)
                return (EntryCause.RootSeed, $"another root seed: A {SeedText(sa)}, B {SeedText(sb)}");
            if (!string.Equals(sa?.Derivation, sb?.Derivation, StringComparison.Ordinal))
                return (EntryCause.Derivation, $"another derivation: A {sa?.Derivation ?? "none"}, B {sb?.Derivation ?? "none"}");
            if (sa?.Restored is not null && sb?.Restored is not null && sa.State != sb.State)
            {
                return (EntryCause.Snapshot, $"the runs put back snapshots that hold other states: A {sa.Restored} on line {sa.Line} ({sa.State}), " +
                    $"B {sb.Restored} on line {sb.Line} ({sb.State})");
            }
            List<EnvironmentDifference> environment = EnvironmentDifferences(_a.Environment, _b.Environment);
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

        private static Divergence Inside(ExitEvent x, ExitEvent y, bool codeChanged)
        {
            string why = codeChanged
                ? "the code changed, and this block draws differently now (more or fewer numbers, or others). This is the block whose draws the change moved."
                : "something in this block is nondeterministic (threads drawing from one generator, a nondeterministic kernel, or a random " +
                  "source outside torch such as System.Random, time or a data loader). This is the block to look at.";
            string detail = $"Block {EventText.Block(x.Name, x.Path)} was entered with the same state in both runs but left " +
                $"with another ({Generators(x.State, y.State)}): {why}";
            return new Divergence(DivergenceKind.Inside, x.Name, x.Path, x.Line, y.Line, detail, x.State.ToString(), y.State.ToString(), null,
                FollowsCodeChange: codeChanged);
        }

        private static Found Truncated(Side stopped, Side goesOn, TraceEvent next)
        {
            Divergence truncated = TruncatedAt(stopped, goesOn, next);
            return new Found(DivergenceKind.Truncated, truncated.LineA, truncated.LineB, changed => truncated with { FollowsCodeChange = changed });
        }

        private static Divergence TruncatedAt(Side stopped, Side goesOn, TraceEvent next)
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

        /// <summary>
        /// The next event of <paramref name="side"/> that is compared in order (enter, exit, mark, end). Seeds, environment
        /// changes, code identities, passive calls and refused draws on the way are taken in: they happen at points that
        /// need not line up between runs (a thread's call, a switch turned on earlier or later).
        /// </summary>
        private TraceEvent? Next(Side side)
        {
            while (side.Reader.Read() is { } read)
            {
                switch (read)
                {
                    case SeedEvent seed:
                        side.Seeded(seed);
                        OnSeed(side, seed);
                        break;
                    case EnvironmentEvent changed:
                        foreach ((string key, string value) in changed.Changed)
                            side.Environment[key] = value;
                        break;
                    case CodeEvent code:
                        side.Code.TryAdd(code.Assembly, code);
                        break;
                    case PassiveEvent:
                        side.PassiveCalls++;
                        break;
                    case DrawEvent draw:
                        side.Draws.Add(draw);
                        break;
                    default:
                        return read;
                }
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
            AddEnvironmentDifferences(EnvironmentDifferences(sa.Environment, sb.Environment));
            if (sa.RootSeed != sb.RootSeed)
                _rootSeedWarning ??= $"the runs were seeded with other root seeds: A {SeedText(sa)}, B {SeedText(sb)}";
            if (!string.Equals(sa.Derivation, sb.Derivation, StringComparison.Ordinal))
                _derivationWarning ??= $"the runs use other derivations: A {sa.Derivation} (line {sa.Line}), B {sb.Derivation} (line {sb.Line})";
        }

        /// <summary>Adds to the report's environment differences those of keys not listed yet.</summary>
        private void AddEnvironmentDifferences(List<EnvironmentDifference> differences)
        {
            foreach (EnvironmentDifference difference in differences)
            {
                if (_environmentKeys.Add(difference.Key))
                    _environment.Add(difference);
            }
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

        private List<string> Warnings(Divergence? divergence, List<CodeChange> codeChanges)
        {
            var warnings = new List<string>();
            warnings.AddRange(_a.Reader.Warnings);
            warnings.AddRange(_b.Reader.Warnings);
            TraceHeader ha = _a.Reader.Header, hb = _b.Reader.Header;
            if (ha.Format != hb.Format)
            {
                warnings.Add($"A is a format {ha.Format} trace (ReproducibleBlock {ha.Library}), B a format {hb.Format} one (ReproducibleBlock {hb.Library}): " +
                    "format 1 names a continuing block by its member or line, format 2 by its module's path, and records no code identity, " +
                    "outputs or environment changes, so such blocks part in structure");
            }
            else if (ha.Tensors != hb.Tensors)
            {
                warnings.Add($"only {(ha.Tensors ? "A" : "B")} traced modules' output tensors (REPRODUCIBLEBLOCK_TRACE_TENSORS=1): outputs were not compared");
            }
            if (codeChanges.Count > 0 && divergence is null)
            {
                warnings.Add("the code differs (" + string.Join(", ", codeChanges.Select(c => c.Assembly)) +
                    "), but every block, output and mark agrees: the change did not touch what the traces record");
            }
            if (divergence is null)
            {
                foreach ((string label, Side side) in new[] { ("A", _a), ("B", _b) })
                {
                    if (side.Draws.Count > 0)
                    {
                        DrawEvent draw = side.Draws[0];
                        warnings.Add($"{label} recorded {side.Draws.Count} draw(s) the library refused, first {draw.Name} {During(draw)} (line {draw.Line}): " +
                            "the runs agree here, but such a draw depends on the thread schedule; fix it");
                    }
                }
            }
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
