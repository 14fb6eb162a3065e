using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using CsCheck;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace ReproducibleBlock.Tool.Tests;

/// <summary>
/// Random input for the reader and both commands: no input, however broken, ends in anything but exit 0, 1 or 2 with
/// the documented output (a report, a JSON object, or the file and line of what is unreadable). CsCheck generates the
/// traces: events with hostile values, real lines of the fixtures with their values replaced, properties dropped or
/// doubled, lines dropped, repeated and swapped, and bytes inserted (invalid UTF-8, byte order marks, newlines, NUL),
/// deleted, flipped or cut off. A failure prints the shrunk input and the seed that makes it again
/// (<c>CsCheck_Seed=...</c>).
/// </summary>
[TestClass]
public sealed class FuzzTests : TraceFileTest
{
    /// <summary>
    /// Samples per test, each running the tool twice (text and <c>--json</c>): about 3 s for diff and 6 s for show on
    /// this project's 2-core machine, where show's text report (tables and the tree) costs most.
    /// </summary>
    private const int Iterations = 800;

    private static readonly string[] FixtureLines = System.IO.Directory
        .GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures"), "*.jsonl")
        .OrderBy(f => f, StringComparer.Ordinal)
        .SelectMany(File.ReadAllLines)
        .ToArray();

    private static readonly string[] Fixtures = System.IO.Directory
        .GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures"), "*.jsonl")
        .OrderBy(f => f, StringComparer.Ordinal)
        .Select(File.ReadAllText)
        .ToArray();

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A string's JSON escaping, without the quotes (lone surrogates become U+FFFD, as the library's writer does).</summary>
    private static string Escaped(string text) => JsonSerializer.Serialize(text, Relaxed)[1..^1];

    // ----- Values -----

    /// <summary>Pieces of string content, as JSON text: escapes that are fine, escapes that are not, markup, controls, any character.</summary>
    private static readonly Gen<string> StringPiece = Gen.Frequency(
        (4, Gen.String[0, 6].Select(Escaped)),
        (2, Gen.Char.Array[0, 4].Select(chars => new string(chars))), // raw: quotes, backslashes, controls, lone surrogates (as U+FFFD in UTF-8)
        (3, Gen.OneOf(@"\ud800", @"\udc00", @"\uDBFF\uDFFF", @"\ud83d\ude00", @"\ud800\u0041", @"\u0000", @"\\", @"\""", @"\n", @"\/",
            @"\u00", @"\x41", "[red]", "[/]", "[[", "]]", "/", "#", "~", "1#0", "~0123456789abcdef", "\u202e", "\u001b[31m", "\t",
            "\u00e9", "\U0001F600", "\u0301", "\uFEFF", "{0}", "%s", "..", " ")));

    private static readonly Gen<string> HostileString =
        StringPiece.Array[0, 6].Select(pieces => "\"" + string.Concat(pieces) + "\"");

    private static readonly Gen<string> HostileNumber = Gen.OneOf(
        Gen.Long.Select(value => value.ToString(CultureInfo.InvariantCulture)),
        Gen.Double.Select(value => value.ToString("R", CultureInfo.InvariantCulture)),
        Gen.OneOf("1e400", "-1e400", "1E2", "-0", "0.0", "1.5", "9223372036854775808", "-9223372036854775809",
            "99999999999999999999999999999999999999", "4.9e-324", "01", "+1", "0x10", "NaN", "Infinity", "1e", "-"),
        Gen.Int[1, 3000].Select(digits => new string('9', digits)));

    /// <summary>Nesting past System.Text.Json's 64 levels and near it.</summary>
    private static readonly Gen<string> DeepValue = Gen.Select(Gen.Int[1, 300], Gen.Bool, (depth, arrays) => arrays
        ? new string('[', depth) + new string(']', depth)
        : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "0" + new string('}', depth));

    private static readonly Gen<string> HostileValue = Gen.Frequency(
        (5, HostileString),
        (3, HostileNumber),
        (2, Gen.OneOf("null", "true", "false", "{}", "[]", "{\"cpu\":null}", "\"\"", "[1,2]", "{\"a\":[{}]}")),
        (1, DeepValue),
        (1, Gen.OneOf("", "nul", "\"unterminated", "{", "]", "'single'", "undefined")));

    // ----- Events: valid ones with adversarial content (most), and broken ones -----

    /// <summary>Any text, escaped as the library's writer escapes it: markup, controls, right-to-left marks, emoji, combining marks.</summary>
    private static readonly Gen<string> AnyText = Gen.Frequency(
        (3, Gen.String[0, 12]),
        (2, Gen.OneOf("[red]", "[/]", "[[", "]]", "\u001b[31m", "\u202e", "\U0001F600", "e\u0301", "\uFEFF", "{0}", "\t", "\n", "\r\n",
            "~0123456789abcdef", "1#0/2#0", "(unnamed)", "").Array[1, 4].Select(string.Concat)),
        (1, Gen.Int[1, 300].Select(length => new string('x', length))))
        .Select(text => "\"" + Escaped(text) + "\"");

    private static readonly Gen<string> ValidFingerprint = Gen.Frequency(
        (8, Gen.ULong.Select(value => "\"" + value.ToString("x16", CultureInfo.InvariantCulture) + "\"")), (1, Gen.Const("null")));

    private static readonly Gen<string> ValidStates = Gen.Select(ValidFingerprint, ValidFingerprint, ValidFingerprint,
        (cpu, managed, cuda) => $"{{\"cpu\":{cpu},\"managed\":{managed},\"cuda\":{cuda}}}");

    /// <summary>Paths from a few frames, so that enters, exits and marks meet; now and then nested past the tree's depth.</summary>
    private static readonly Gen<string> ValidPath = Gen.Frequency(
        (3000, Gen.OneOf("1#0", "2#0", "7#1", "~0123456789abcdef", "-5#0").Array[0, 4].Select(frames => "\"" + string.Join("/", frames) + "\"")),
        (1, Gen.Int[190, 260].Select(depth => "\"" + string.Join("/", Enumerable.Repeat("1#0", depth)) + "\"")),
        (300, AnyText));

    private static readonly Gen<string> ValidName = Gen.Frequency(
        (3, Gen.OneOf("\"Demo.Train.Epoch\"", "\"examples/QuickStart/Program.cs:11\"", "null")), (2, AnyText));

    private static readonly Gen<string> ValidEnvironment = Gen.Select(
        Gen.OneOf("TorchThreads", "CpuVendor", "RootSeed", "Derivation", "DeterministicAlgorithms", "[k]", "").Array[0, 5], AnyText.Array[5],
        (keys, values) => "{" + string.Join(",", keys.Select((key, i) => $"\"{key}\":{values[i]}")) + "}");

    /// <summary>An event the format allows, as kind and the properties after <c>"seq"</c>.</summary>
    private static readonly Gen<(string Ev, string Properties)> ValidEvent = Gen.Frequency(
        (6, Gen.Select(ValidPath, ValidName, Gen.OneOf("block", "instance", "continuing", "member", "site"), Gen.Bool, ValidStates, ValidStates,
            (path, name, kind, restore, before, state) =>
                ("enter", $"\"path\":{path},\"name\":{name},\"kind\":\"{kind}\",\"restore\":{(restore ? "true" : "false")},\"before\":{before},\"state\":{state}"))),
        (5, Gen.Select(ValidPath, ValidName, ValidStates, (path, name, state) => ("exit", $"\"path\":{path},\"name\":{name},\"state\":{state}"))),
        (2, Gen.Select(ValidPath, AnyText, ValidFingerprint.Where(f => f != "null"), (path, name, fingerprint) =>
            ("mark", $"\"path\":{path},\"name\":{name},\"fingerprint\":{fingerprint}"))),
        (1, Gen.Select(Gen.Long, Gen.OneOf("Keyed", "ResetAndAdvance"), ValidEnvironment, (root, derivation, environment) =>
            ("seed", $"\"rootSeed\":{root.ToString(CultureInfo.InvariantCulture)},\"derivation\":\"{derivation}\",\"environment\":{environment}"))),
        (1, Gen.Select(Gen.OneOf("module", "output", "assembly"), HostileValue, (ev, value) => (ev, $"\"x\":{value}")))); // kinds of later versions

    /// <summary>An event with one property the format does not allow: hostile values where the reader looks.</summary>
    private static readonly Gen<(string Ev, string Properties)> BrokenEvent = Gen.Select(ValidEvent, HostileValue, HostileString, Gen.Int[0, 100],
        (valid, value, name, which) =>
        {
            // The value of one property the reader reads, replaced (or, for an unknown kind, a property added).
            string[] names = Regex.Matches(valid.Properties, "\"(path|name|kind|restore|before|state|cpu|managed|cuda|fingerprint|rootSeed|derivation|environment)\":")
                .Select(m => m.Value).Distinct().ToArray();
            if (names.Length == 0)
                return (valid.Ev, valid.Properties + "," + name + ":" + value);
            string target = names[which % names.Length];
            int at = valid.Properties.IndexOf(target, StringComparison.Ordinal) + target.Length;
            int end = ValueEnd(valid.Properties, at);
            return (valid.Ev, valid.Properties[..at] + value + valid.Properties[end..]);
        });

    private static readonly Gen<(string Ev, string Properties)> Event = Gen.Frequency((30, ValidEvent), (1, BrokenEvent));

    /// <summary>Where the JSON value starting at <paramref name="at"/> ends (text the generators made, so well-formed).</summary>
    private static int ValueEnd(string text, int at)
    {
        int depth = 0;
        bool inString = false;
        for (int i = at; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\')
                    i++;
                else if (c == '"')
                    inString = false;
                if (!inString && depth == 0)
                    return i + 1;
                continue;
            }
            switch (c)
            {
                case '"': inString = true; break;
                case '{' or '[': depth++; break;
                case '}' or ']' when depth > 0: depth--; if (depth == 0) return i + 1; break;
                case ',' or '}' or ']' when depth == 0: return i;
            }
        }
        return text.Length;
    }

    /// <summary>A trace of <paramref name="events"/>, numbered as the format wants, with or without its end, after the header <paramref name="header"/> picks (0 a valid one).</summary>
    private static Gen<string> GeneratedTrace(Gen<(string Ev, string Properties)> events, Gen<int> header) => Gen.Select(events.Array[0, 30], Gen.Bool, header,
        (lines, end, kind) =>
    {
        var text = new StringBuilder();
        text.Append(kind switch
        {
            0 => "{\"ev\":\"trace\",\"format\":1,\"library\":\"0.2.0\",\"pid\":1,\"started\":\"2026-11-27T13:02:11.532Z\"}",
            1 => "{\"ev\":\"trace\",\"format\":1,\"library\":\"\\ud800\",\"pid\":1e400,\"started\":\"yesterday\"}",
            2 => "{\"ev\":\"trace\",\"format\":2}",
            _ => "\uFEFF{\"ev\":\"trace\",\"format\":1,\"library\":\"[red]\",\"pid\":-1,\"started\":\"2026-11-27T13:02:11Z\"}",
        }).Append('\n');
        int seq = 0;
        foreach ((string ev, string properties) in lines)
            text.Append(CultureInfo.InvariantCulture, $"{{\"ev\":\"{ev}\",\"seq\":{seq++},{properties}}}\n");
        if (end)
            text.Append(CultureInfo.InvariantCulture, $"{{\"ev\":\"end\",\"seq\":{seq}}}\n");
        return text.ToString();
    });

    // ----- Mutations of real lines and whole traces -----

    /// <summary>A real line (from the fixtures) with one property's value replaced, the property dropped or doubled, or one added.</summary>
    private static readonly Gen<string> MutatedRealLine = Gen.Select(Gen.Int[0, FixtureLines.Length - 1], Gen.Int[0, 3], Gen.Int[0, 100],
        HostileValue, HostileString, (index, how, which, value, name) =>
        {
            using JsonDocument document = JsonDocument.Parse(FixtureLines[index]);
            var properties = document.RootElement.EnumerateObject()
                .Select(p => (Name: JsonSerializer.Serialize(p.Name, Relaxed), Value: p.Value.GetRawText())).ToList();
            int at = which % properties.Count;
            switch (how)
            {
                case 0: properties[at] = (properties[at].Name, value); break;
                case 1: properties.RemoveAt(at); break;
                case 2: properties.Insert(at, (properties[at].Name, value)); break;
                default: properties.Insert(at, (name, value)); break;
            }
            return "{" + string.Join(",", properties.Select(p => $"{p.Name}:{p.Value}")) + "}";
        });

    private abstract record Mutation;
    private sealed record ReplaceLine(int At, string Line) : Mutation;
    private sealed record DropLine(int At) : Mutation;
    private sealed record RepeatLine(int At) : Mutation;
    private sealed record SwapLines(int At, int With) : Mutation;
    private sealed record Renumber : Mutation;
    private sealed record ChangeFingerprint(int At, int Which, ulong Value) : Mutation;
    private sealed record InsertBytes(int At, byte[] Bytes) : Mutation;
    private sealed record DeleteBytes(int At, int Count) : Mutation;
    private sealed record FlipByte(int At, byte Mask) : Mutation;
    private sealed record CutAt(int At) : Mutation;

    private static readonly Gen<byte[]> Bytes = Gen.Frequency(
        (4, Gen.OneOf<byte[]>([0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0xEF, 0xBB, 0xBF],
            "\n"u8.ToArray(), "\r"u8.ToArray(), [0], "\\"u8.ToArray(), "\""u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), ","u8.ToArray(),
            "\\u"u8.ToArray(), "\\ud800"u8.ToArray())),
        (1, Gen.Byte.Array[1, 8]));

    /// <summary>
    /// Positions are taken modulo the trace's lines or bytes, so any number is one; line mutations leave the first line
    /// (the header) alone, which byte mutations still reach. <see cref="Renumber"/> puts <c>seq</c> back in order after
    /// lines were dropped, repeated or swapped, so those reach the comparison instead of stopping at the numbering.
    /// </summary>
    private static readonly Gen<Mutation> MutationGen = Gen.Frequency(
        (6, Gen.Select(Gen.Int[0, 1000], Gen.Frequency((1, MutatedRealLine), (3, Event.Select(e => $"{{\"ev\":\"{e.Ev}\",\"seq\":0,{e.Properties}}}"))),
            (at, line) => (Mutation)new ReplaceLine(at, line))),
        (2, Gen.Int[0, 1000].Select(at => (Mutation)new DropLine(at))),
        (2, Gen.Int[0, 1000].Select(at => (Mutation)new RepeatLine(at))),
        (2, Gen.Select(Gen.Int[0, 1000], Gen.Int[0, 1000], (at, with) => (Mutation)new SwapLines(at, with))),
        (4, Gen.Const((Mutation)new Renumber())),
        (2, Gen.Select(Gen.Int[0, 100_000], Bytes, (at, bytes) => (Mutation)new InsertBytes(at, bytes))),
        (1, Gen.Select(Gen.Int[0, 100_000], Gen.Int[1, 40], (at, count) => (Mutation)new DeleteBytes(at, count))),
        (1, Gen.Select(Gen.Int[0, 100_000], Gen.Byte, (at, mask) => (Mutation)new FlipByte(at, mask))),
        (1, Gen.Int[0, 100_000].Select(at => (Mutation)new CutAt(at))));

    /// <summary>
    /// Changes a run could make: another generator state or mark (entry, inside and mark divergences), another event,
    /// one missing, one more, two in another order (structure).
    /// </summary>
    private static readonly Gen<Mutation> SoundMutation = Gen.Frequency(
        (3, Gen.Select(Gen.Int[0, 1000], Gen.Int[0, 10], Gen.ULong, (at, which, value) => (Mutation)new ChangeFingerprint(at, which, value))),
        (3, Gen.Select(Gen.Int[0, 1000], ValidEvent, (at, e) => (Mutation)new ReplaceLine(at, $"{{\"ev\":\"{e.Ev}\",\"seq\":0,{e.Properties}}}"))),
        (1, Gen.Int[0, 1000].Select(at => (Mutation)new DropLine(at))),
        (1, Gen.Int[0, 1000].Select(at => (Mutation)new RepeatLine(at))),
        (1, Gen.Select(Gen.Int[0, 1000], Gen.Int[0, 1000], (at, with) => (Mutation)new SwapLines(at, with))));

    private static readonly Regex Hex = new("\"[0-9a-f]{16}\"");

    private static readonly Regex Seq = new("\"seq\":-?[0-9]+");

    private static byte[] Apply(string trace, Mutation[] mutations)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(trace);
        foreach (Mutation mutation in mutations)
        {
            if (mutation is ReplaceLine or DropLine or RepeatLine or SwapLines or Renumber or ChangeFingerprint)
            {
                // Lines as bytes, so earlier byte mutations (invalid UTF-8) survive.
                List<byte[]> lines = Split(bytes);
                if (lines.Count < 2)
                    continue;
                int Line(int at) => 1 + at % (lines.Count - 1);
                switch (mutation)
                {
                    case ReplaceLine r: lines[Line(r.At)] = Encoding.UTF8.GetBytes(r.Line); break;
                    case DropLine d: lines.RemoveAt(Line(d.At)); break;
                    case RepeatLine r: lines.Insert(Line(r.At), lines[Line(r.At)]); break;
                    case SwapLines s: (lines[Line(s.At)], lines[Line(s.With)]) = (lines[Line(s.With)], lines[Line(s.At)]); break;
                    case ChangeFingerprint c:
                        string line = Encoding.UTF8.GetString(lines[Line(c.At)]);
                        MatchCollection found = Hex.Matches(line);
                        if (found.Count > 0)
                        {
                            Match which = found[c.Which % found.Count];
                            line = line[..which.Index] + "\"" + c.Value.ToString("x16", CultureInfo.InvariantCulture) + "\"" + line[(which.Index + which.Length)..];
                            lines[Line(c.At)] = Encoding.UTF8.GetBytes(line);
                        }
                        break;
                    case Renumber:
                        int seq = 0;
                        for (int i = 1; i < lines.Count; i++)
                        {
                            string text = Encoding.UTF8.GetString(lines[i]);
                            if (Encoding.UTF8.GetByteCount(text) == lines[i].Length) // valid UTF-8: renumbering would not repair it
                                lines[i] = Encoding.UTF8.GetBytes(Seq.Replace(text, "\"seq\":" + seq++.ToString(CultureInfo.InvariantCulture), 1));
                        }
                        break;
                }
                bytes = lines.SelectMany(line => line.Append((byte)'\n')).ToArray();
                continue;
            }
            if (bytes.Length == 0)
            {
                if (mutation is InsertBytes first)
                    bytes = first.Bytes;
                continue;
            }
            bytes = mutation switch
            {
                InsertBytes i => [.. bytes.AsSpan(0, i.At % (bytes.Length + 1)), .. i.Bytes, .. bytes.AsSpan(i.At % (bytes.Length + 1))],
                DeleteBytes d => [.. bytes.AsSpan(0, d.At % bytes.Length), .. bytes.AsSpan(Math.Min(bytes.Length, d.At % bytes.Length + d.Count))],
                FlipByte f => Flip(bytes, f.At % bytes.Length, f.Mask),
                CutAt c => bytes[..(c.At % bytes.Length)],
                _ => bytes,
            };
        }
        return bytes;
    }

    private static byte[] Flip(byte[] bytes, int at, byte mask)
    {
        byte[] copy = (byte[])bytes.Clone();
        copy[at] ^= mask == 0 ? (byte)1 : mask;
        return copy;
    }

    private static List<byte[]> Split(byte[] bytes)
    {
        var lines = new List<byte[]>();
        int start = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == '\n')
            {
                lines.Add(bytes[start..i]);
                start = i + 1;
            }
        }
        if (start < bytes.Length)
            lines.Add(bytes[start..]);
        return lines;
    }

    /// <summary>
    /// Two traces to compare, B being A changed some more (or not at all), so comparisons get past the first lines. Half
    /// are sound: a real or generated trace of valid events, with lines replaced, dropped, repeated or swapped and then
    /// numbered again, which reaches the comparison and the reports (exit 0 or 1, and their warnings). Half are
    /// hostile: broken events and headers, hostile values in real lines, and byte mutations (exit 2, mostly).
    /// </summary>
    private static readonly Gen<(byte[] A, byte[] B)> TracePair = Gen.Frequency(
        (1, Gen.Select(Gen.Frequency((1, Gen.OneOf(Fixtures)), (3, GeneratedTrace(ValidEvent, Gen.Const(0)))),
            SoundMutation.Array[0, 2], SoundMutation.Array[0, 2],
            (start, common, more) => (Apply(start, [.. common, new Renumber()]), Apply(start, [.. common, .. more, new Renumber()])))),
        (1, Gen.Select(Gen.Frequency((1, Gen.OneOf(Fixtures)), (2, GeneratedTrace(Event, Gen.Frequency((12, Gen.Const(0)), (1, Gen.Int[1, 3]))))),
            MutationGen.Array[0, 3], MutationGen.Array[0, 3],
            (start, common, more) => (Apply(start, common), Apply(start, [.. common, .. more])))));

    [TestMethod]
    public void Show_AnyInput_ExitsZeroOrTwo_WithTheDocumentedOutput()
    {
        string directory = Directory; // made once, before the threads
        TracePair.Select(pair => pair.B).Sample(bytes =>
        {
            string trace = WriteInput(directory, "trace.jsonl", bytes);
            try
            {
                Check(Run("show", trace), json: false, trace);
                Check(Run("show", "--json", trace), json: true, trace);
            }
            finally
            {
                File.Delete(trace);
            }
        }, iter: Iterations, print: Print);
    }

    [TestMethod]
    public void Diff_AnyPairOfInputs_ExitsZeroOneOrTwo_WithTheDocumentedOutput()
    {
        string directory = Directory;
        TracePair.Sample(pair =>
        {
            string a = WriteInput(directory, "a.jsonl", pair.A);
            string b = WriteInput(directory, "b.jsonl", pair.B);
            try
            {
                Check(Run("diff", a, b), json: false, a, b);
                Check(Run("diff", "--json", b, a), json: true, b, a);
            }
            finally
            {
                File.Delete(a);
                File.Delete(b);
            }
        }, iter: Iterations, print: pair => $"A: {Print(pair.A)}\nB: {Print(pair.B)}");
    }

    /// <summary>What every run must show: an exit code the README documents, and the output that goes with it.</summary>
    private static void Check(ToolRun run, bool json, params string[] files)
    {
        bool diff = run.Arguments.StartsWith("diff", StringComparison.Ordinal);
        int[] allowed = diff ? [ExitCodes.Same, ExitCodes.Diverged, ExitCodes.Unreadable] : [ExitCodes.Same, ExitCodes.Unreadable];
        CollectionAssert.Contains(allowed, run.ExitCode, run.Describe());
        if (run.ExitCode == ExitCodes.Unreadable)
        {
            Assert.IsTrue(files.Any(file => run.Error.StartsWith($"reproducible-block: {file}:", StringComparison.Ordinal)),
                "the message names the file: " + run.Describe());
            if (!json)
            {
                Assert.AreEqual("", run.Output, run.Describe());
                return;
            }
        }
        else
        {
            Assert.AreEqual("", run.Error, run.Describe());
        }
        if (!json)
        {
            Assert.IsFalse(string.IsNullOrWhiteSpace(run.Output), run.Describe());
            return;
        }
        using JsonDocument document = JsonDocument.Parse(run.Output, new JsonDocumentOptions { MaxDepth = 1000 });
        JsonElement root = document.RootElement;
        if (run.ExitCode == ExitCodes.Unreadable)
        {
            Assert.AreEqual("unreadable", root.GetProperty("result").GetString(), run.Describe());
            CollectionAssert.Contains(files, root.GetProperty("file").GetString(), run.Describe());
        }
        else if (diff)
        {
            Assert.AreEqual(run.ExitCode == ExitCodes.Same ? "same" : "diverged", root.GetProperty("result").GetString(), run.Describe());
        }
        else
        {
            Assert.AreEqual(files[0], root.GetProperty("file").GetString(), run.Describe());
        }
    }

    private static string WriteInput(string directory, string name, byte[] bytes)
    {
        string path = Path.Combine(directory, Guid.NewGuid().ToString("N") + "-" + name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>The input as text, invalid UTF-8 shown as \xNN, cut at 4,000 characters.</summary>
    private static string Print(byte[] bytes)
    {
        var text = new StringBuilder();
        int at = 0;
        while (at < bytes.Length && text.Length < 4000)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes.AsSpan(at), out System.Text.Rune rune, out int consumed) == System.Buffers.OperationStatus.Done)
                text.Append(rune.ToString());
            else
                text.Append(CultureInfo.InvariantCulture, $"\\x{bytes[at]:X2}");
            at += Math.Max(consumed, 1);
        }
        return text.ToString();
    }
}
