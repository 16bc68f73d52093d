using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MobileNetGen.Model
{
    /// <summary>
    /// What the source generator learns about one weights file: a small text written by the MSBuild step
    /// (<c>MobileNetGen.Tasks</c>, <c>DescribeMobileNetWeights</c>) next to the build's intermediate files, while the file
    /// itself is embedded in the assembly as a manifest resource. The generator never sees the weights, only this:
    /// </summary>
    /// <remarks>
    /// <code>
    /// mobilenetgen-weights-description/1
    /// name: mobilenet_v1_0.25_224
    /// file: /path/to/mobilenet_v1_0.25_224.safetensors
    /// length: 1886584
    /// sha256: 0B6F…
    /// resource: MobileNetGen.Weights.mobilenet_v1_0.25_224
    /// non-finite: (tensor names, comma-separated; empty when none)
    /// error: (why the file is not a readable safetensors file; empty when it is)
    /// header-length: 6016
    /// header:
    /// {"__metadata__":{…},"conv0.weight":{"dtype":"F32","shape":[3,3,3,8],"data_offsets":[0,864]},…}
    /// </code>
    /// The header is the file's own JSON, byte for byte (its UTF-8 length is <c>header-length</c>). Compilers and IDEs
    /// hold a few kilobytes of text per weights file instead of megabytes, and an unchanged file gives an unchanged text,
    /// so the generator's incremental pipeline reuses its plan.
    /// </remarks>
    public sealed class WeightsDescription
    {
        public const string FormatLine = "mobilenetgen-weights-description/1";

        /// <summary>File name suffix of descriptions (<c>NAME.mngweights</c>): what the generator picks from AdditionalFiles.</summary>
        public const string Suffix = ".mngweights";

        /// <summary>Manifest resource name of the weights entry <paramref name="name"/>.</summary>
        public static string ResourceName(string name) => "MobileNetGen.Weights." + name;

        public string Name { get; private set; } = "";
        public string FilePath { get; private set; } = "";
        public long Length { get; private set; }
        public string Sha256 { get; private set; } = "";
        public string Resource { get; private set; } = "";
        public List<string> NonFinite { get; } = new List<string>();
        /// <summary>Why the file cannot be read as safetensors; null when it can.</summary>
        public string? Error { get; private set; }
        /// <summary>The parsed header; null when <see cref="Error"/> is set.</summary>
        public SafeTensorsHeader? Header { get; private set; }

        /// <summary>The description of the weights file <paramref name="bytes"/> (read from <paramref name="path"/>).</summary>
        public static string Describe(string name, string path, byte[] bytes)
        {
            string? error = null;
            string headerText = "";
            var nonFinite = new List<string>();
            try
            {
                var file = SafeTensorsFile.Read(bytes);
                headerText = Encoding.UTF8.GetString(bytes, 8, (int)BitConverter.ToUInt64(bytes, 0));
                nonFinite = CanonicalWeights.NonFiniteTensors(file);
            }
            catch (WeightsFormatException e) { error = e.Message; }

            var sb = new StringBuilder();
            sb.Append(FormatLine).Append('\n');
            sb.Append("name: ").Append(name).Append('\n');
            sb.Append("file: ").Append(path).Append('\n');
            sb.Append("length: ").Append(bytes.LongLength.ToString(CultureInfo.InvariantCulture)).Append('\n');
            sb.Append("sha256: ").Append(Sha256Hex(bytes)).Append('\n');
            sb.Append("resource: ").Append(ResourceName(name)).Append('\n');
            sb.Append("non-finite: ").Append(string.Join(",", nonFinite)).Append('\n');
            sb.Append("error: ").Append(error == null ? "" : OneLine(error)).Append('\n');
            sb.Append("header-length: ").Append(Encoding.UTF8.GetByteCount(headerText).ToString(CultureInfo.InvariantCulture)).Append('\n');
            sb.Append("header:\n").Append(headerText);
            return sb.ToString();
        }

        /// <summary>Reads a description. Throws <see cref="WeightsFormatException"/> when it is not one (not written by the build step).</summary>
        public static WeightsDescription Parse(string text)
        {
            if (text == null) throw new ArgumentNullException(nameof(text));
            var d = new WeightsDescription();
            int pos = 0;
            string NextLine()
            {
                int nl = text.IndexOf('\n', pos);
                if (nl < 0) throw new WeightsFormatException("the weights description is truncated (it should come from the MobileNetWeights build step)");
                string line = text.Substring(pos, nl - pos).TrimEnd('\r');
                pos = nl + 1;
                return line;
            }
            string Field(string key)
            {
                string line = NextLine();
                if (!line.StartsWith(key + ":", StringComparison.Ordinal))
                    throw new WeightsFormatException($"the weights description has '{line}' where '{key}:' belongs (it should come from the MobileNetWeights build step)");
                return line.Substring(key.Length + 1).Trim();
            }
            if (NextLine() != FormatLine) throw new WeightsFormatException($"not a weights description (first line is not '{FormatLine}')");
            d.Name = Field("name");
            d.FilePath = Field("file");
            if (!long.TryParse(Field("length"), NumberStyles.None, CultureInfo.InvariantCulture, out long length)) throw new WeightsFormatException("the weights description has no valid length");
            d.Length = length;
            d.Sha256 = Field("sha256");
            d.Resource = Field("resource");
            foreach (string n in Field("non-finite").Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries)) d.NonFinite.Add(n.Trim());
            string error = Field("error");
            d.Error = error.Length == 0 ? null : error;
            if (!int.TryParse(Field("header-length"), NumberStyles.None, CultureInfo.InvariantCulture, out int headerLength)) throw new WeightsFormatException("the weights description has no valid header-length");
            if (NextLine() != "header:") throw new WeightsFormatException("the weights description has no header");
            if (d.Error != null) return d;
            byte[] json = Encoding.UTF8.GetBytes(text.Substring(pos));
            if (json.Length != headerLength) throw new WeightsFormatException($"the weights description's header holds {json.Length} bytes, not {headerLength} (edited or truncated)");
            var prefix = new byte[8 + json.Length];
            BitConverter.GetBytes((ulong)json.Length).CopyTo(prefix, 0);
            json.CopyTo(prefix, 8);
            d.Header = SafeTensorsHeader.Parse(prefix, d.Length);
            return d;
        }

        /// <summary>Upper-case hex SHA-256 of <paramref name="bytes"/>.</summary>
        public static string Sha256Hex(byte[] bytes)
        {
            using var sha = SHA256.Create();
            return BitConverter.ToString(sha.ComputeHash(bytes)).Replace("-", "");
        }

        private static string OneLine(string s) => s.Replace('\r', ' ').Replace('\n', ' ');
    }
}
