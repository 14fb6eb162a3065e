using System;
using System.IO;

namespace ReproducibleBlock.Tool.Traces;

/// <summary>
/// Splits a stream into lines at <c>\n</c>, as UTF-8 bytes, without making a string of them. The line handed out is
/// valid until the next call: a trace of a million events streams through one buffer.
/// </summary>
internal sealed class Utf8LineReader
{
    /// <summary>A line longer than this is not a trace's (the longest, a <c>seed</c> line, is a few kilobytes).</summary>
    public const int MaxLineBytes = 16 * 1024 * 1024;

    private readonly Stream _stream;
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;     // the next line's first byte
    private int _scanned;   // bytes from _start already searched for '\n'
    private int _end;       // one past the last byte read
    private bool _endOfStream;

    public Utf8LineReader(Stream stream) => _stream = stream;

    /// <summary>Reads the next line, without its <c>\n</c>.</summary>
    /// <param name="line">The line's bytes, valid until the next call.</param>
    /// <param name="terminated">False for a last line the stream ends in without <c>\n</c>.</param>
    /// <returns>False at the end of the stream.</returns>
    /// <exception cref="InvalidDataException">The line is longer than <see cref="MaxLineBytes"/>.</exception>
    public bool TryReadLine(out ReadOnlyMemory<byte> line, out bool terminated)
    {
        while (true)
        {
            int found = _buffer.AsSpan(_start + _scanned, _end - _start - _scanned).IndexOf((byte)'\n');
            if (found >= 0)
            {
                int length = _scanned + found;
                line = _buffer.AsMemory(_start, length);
                _start += length + 1;
                _scanned = 0;
                terminated = true;
                return true;
            }
            _scanned = _end - _start;
            if (_endOfStream)
            {
                terminated = false;
                if (_start == _end)
                {
                    line = default;
                    return false;
                }
                line = _buffer.AsMemory(_start, _end - _start);
                _start = _end;
                _scanned = 0;
                return true;
            }
            Fill();
        }
    }

    private void Fill()
    {
        int pending = _end - _start;
        if (pending > MaxLineBytes)
            throw new InvalidDataException($"a line is longer than {MaxLineBytes / (1024 * 1024)} MiB without a newline");
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, pending);
            _start = 0;
            _end = pending;
        }
        if (_end == _buffer.Length)
            Array.Resize(ref _buffer, _buffer.Length * 2);
        int read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
            _endOfStream = true;
        else
            _end += read;
    }
}
