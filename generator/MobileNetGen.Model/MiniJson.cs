using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace MobileNetGen.Model
{
    /// <summary>
    /// A small strict JSON reader and writer for the safetensors header. Written by hand because the source generator
    /// runs on netstandard2.0 inside the compiler, where System.Text.Json cannot be relied on. Values are
    /// <see cref="Dictionary{TKey,TValue}"/> (objects, insertion-ordered keys kept in a side list), <see cref="List{T}"/>,
    /// <see cref="string"/>, <see cref="double"/>, <see cref="bool"/> and null.
    /// </summary>
    public static class MiniJson
    {
        private const int MaxDepth = 64;

        public sealed class JsonObject
        {
            public readonly List<KeyValuePair<string, object?>> Members = new List<KeyValuePair<string, object?>>();
            public object? this[string key]
            {
                get { foreach (var m in Members) if (m.Key == key) return m.Value; return null; }
            }
            public bool ContainsKey(string key) { foreach (var m in Members) if (m.Key == key) return true; return false; }
            /// <summary>Appends a member (no check for an existing one of the same name); returns this object.</summary>
            public JsonObject Add(string key, object? value) { Members.Add(new KeyValuePair<string, object?>(key, value)); return this; }
        }

        public static object? Parse(string text)
        {
            int pos = 0;
            object? v = ParseValue(text, ref pos, 0);
            SkipWs(text, ref pos);
            if (pos != text.Length) throw Error(pos, "unexpected text after the JSON value");
            return v;
        }

        private static FormatException Error(int pos, string what) => new FormatException($"JSON error at character {pos}: {what}");

        private static void SkipWs(string s, ref int p)
        {
            while (p < s.Length && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r')) p++;
        }

        private static object? ParseValue(string s, ref int p, int depth)
        {
            if (depth > MaxDepth) throw Error(p, "nesting too deep");
            SkipWs(s, ref p);
            if (p >= s.Length) throw Error(p, "unexpected end");
            char c = s[p];
            switch (c)
            {
                case '{':
                {
                    p++;
                    var obj = new JsonObject();
                    SkipWs(s, ref p);
                    if (p < s.Length && s[p] == '}') { p++; return obj; }
                    while (true)
                    {
                        SkipWs(s, ref p);
                        if (p >= s.Length || s[p] != '"') throw Error(p, "expected a member name");
                        string key = ParseString(s, ref p);
                        SkipWs(s, ref p);
                        if (p >= s.Length || s[p] != ':') throw Error(p, "expected ':'");
                        p++;
                        obj.Members.Add(new KeyValuePair<string, object?>(key, ParseValue(s, ref p, depth + 1)));
                        SkipWs(s, ref p);
                        if (p >= s.Length) throw Error(p, "unexpected end in object");
                        if (s[p] == ',') { p++; continue; }
                        if (s[p] == '}') { p++; return obj; }
                        throw Error(p, "expected ',' or '}'");
                    }
                }
                case '[':
                {
                    p++;
                    var list = new List<object?>();
                    SkipWs(s, ref p);
                    if (p < s.Length && s[p] == ']') { p++; return list; }
                    while (true)
                    {
                        list.Add(ParseValue(s, ref p, depth + 1));
                        SkipWs(s, ref p);
                        if (p >= s.Length) throw Error(p, "unexpected end in array");
                        if (s[p] == ',') { p++; continue; }
                        if (s[p] == ']') { p++; return list; }
                        throw Error(p, "expected ',' or ']'");
                    }
                }
                case '"':
                    return ParseString(s, ref p);
                case 't': Expect(s, ref p, "true"); return true;
                case 'f': Expect(s, ref p, "false"); return false;
                case 'n': Expect(s, ref p, "null"); return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(s, ref p);
                    throw Error(p, $"unexpected character '{c}'");
            }
        }

        private static void Expect(string s, ref int p, string word)
        {
            if (string.CompareOrdinal(s, p, word, 0, word.Length) != 0) throw Error(p, $"expected '{word}'");
            p += word.Length;
        }

        private static double ParseNumber(string s, ref int p)
        {
            int start = p;
            while (p < s.Length && "+-0123456789.eE".IndexOf(s[p]) >= 0) p++;
            if (!double.TryParse(s.Substring(start, p - start), NumberStyles.Float, CultureInfo.InvariantCulture, out double d))
                throw Error(start, "malformed number");
            return d;
        }

        private static string ParseString(string s, ref int p)
        {
            p++; // opening quote
            var sb = new StringBuilder();
            while (true)
            {
                if (p >= s.Length) throw Error(p, "unterminated string");
                char c = s[p++];
                if (c == '"') return sb.ToString();
                if (c == '\\')
                {
                    if (p >= s.Length) throw Error(p, "unterminated escape");
                    char e = s[p++];
                    switch (e)
                    {
                        case '"': sb.Append('"'); break;
                        case '\\': sb.Append('\\'); break;
                        case '/': sb.Append('/'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'n': sb.Append('\n'); break;
                        case 'r': sb.Append('\r'); break;
                        case 't': sb.Append('\t'); break;
                        case 'u':
                            if (p + 4 > s.Length || !int.TryParse(s.Substring(p, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int u))
                                throw Error(p, "malformed \\u escape");
                            sb.Append((char)u); p += 4; break;
                        default: throw Error(p, $"unknown escape '\\{e}'");
                    }
                }
                else if (c < ' ') throw Error(p, "control character in string");
                else sb.Append(c);
            }
        }

        /// <summary>
        /// Serializes a value of the kinds <see cref="Parse"/> returns (plus <see cref="int"/> and <see cref="long"/>), compactly
        /// (no whitespace), objects in member order. Numbers are written in their shortest round-trip form; NaN and
        /// infinities are refused (JSON has no spelling for them).
        /// </summary>
        public static string Write(object? value)
        {
            var sb = new StringBuilder();
            WriteValue(sb, value, 0);
            return sb.ToString();
        }

        private static void WriteValue(StringBuilder sb, object? value, int depth)
        {
            if (depth > MaxDepth) throw new ArgumentException("JSON value nested too deeply");
            switch (value)
            {
                case null: sb.Append("null"); break;
                case bool b: sb.Append(b ? "true" : "false"); break;
                case string s: sb.Append(Quote(s)); break;
                case int i: sb.Append(i.ToString(CultureInfo.InvariantCulture)); break;
                case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
                case double d:
                    if (double.IsNaN(d) || double.IsInfinity(d)) throw new ArgumentException($"JSON cannot hold the number {d}");
                    sb.Append(d.ToString("R", CultureInfo.InvariantCulture));
                    break;
                case JsonObject o:
                {
                    sb.Append('{');
                    for (int k = 0; k < o.Members.Count; k++)
                    {
                        if (k > 0) sb.Append(',');
                        sb.Append(Quote(o.Members[k].Key)).Append(':');
                        WriteValue(sb, o.Members[k].Value, depth + 1);
                    }
                    sb.Append('}');
                    break;
                }
                case List<object?> list:
                {
                    sb.Append('[');
                    for (int k = 0; k < list.Count; k++)
                    {
                        if (k > 0) sb.Append(',');
                        WriteValue(sb, list[k], depth + 1);
                    }
                    sb.Append(']');
                    break;
                }
                default: throw new ArgumentException($"JSON cannot hold a {value.GetType().Name}");
            }
        }

        public static string Quote(string s)
        {
            var sb = new StringBuilder(s.Length + 2);
            sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < ' ') sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            return sb.Append('"').ToString();
        }
    }
}
