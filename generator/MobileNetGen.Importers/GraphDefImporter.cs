using System.Globalization;
using Google.Protobuf;
using MobileNetGen.Importers.TensorFlow;
using MobileNetGen.Model;

namespace MobileNetGen.Importers;

/// <summary>
/// TensorFlow frozen <c>GraphDef</c> (TF-slim 2017 releases). Layers are located through the graph, not by constant names:
/// the <c>Conv2D</c>/<c>DepthwiseConv2dNative</c> node under <c>MobilenetV1/MobilenetV1/{slim scope}/</c> (logits:
/// <c>MobilenetV1/Logits/Conv2d_1c_1x1/</c>); its filter input is followed through <c>Identity</c> to a float <c>Const</c>
/// or to a <c>Dequantize</c> (MIN_FIRST) of a quint8 <c>Const</c> with scalar min/max constants.
/// BatchNorm: float graphs keep <c>MobilenetV1/{scope}/BatchNorm/{gamma,beta,moving_mean,moving_variance}</c> (folded here in
/// double, ε = 0.001); <c>quantize_weights</c> graphs have it constant-folded: conv → [Mul by <c>batchnorm/mul</c>] → Add of
/// <c>batchnorm/sub</c>, so scale = that multiplier (depthwise) or ones (multiplier already in the kernel) and bias = the sub.
/// </summary>
internal static class GraphDefImporter
{
    private const int MaxIdentityChain = 64;

    public static SafeTensorsFile Import(string path, ImportOptions options)
    {
        byte[] bytes = ImportCommon.ReadFileBounded(path, "TensorFlow graph");
        string where = Path.GetFileName(path);
        if (bytes.Length == 0) throw new ImportException($"{where}: the file is empty (not a TensorFlow GraphDef)");
        GraphDef graph;
        try { graph = GraphDef.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e) { throw new ImportException($"{where}: not a valid TensorFlow GraphDef (protobuf: {e.Message})", e); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or OverflowException)
        { throw new ImportException($"{where}: not a valid TensorFlow GraphDef ({e.Message})", e); }
        if (graph.Node.Count == 0) throw new ImportException($"{where}: the GraphDef has no nodes (empty or not a TensorFlow graph)");
        return new Reader(graph, where).Import(path, bytes, options);
    }

    private sealed class Reader
    {
        private readonly Dictionary<string, NodeDef> _nodes = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<NodeDef>> _consumers = new(StringComparer.Ordinal);
        private readonly List<NodeDef> _all;
        private readonly string _where;

        public Reader(GraphDef graph, string where)
        {
            _where = where;
            _all = graph.Node.ToList();
            foreach (var n in _all)
            {
                if (!_nodes.TryAdd(n.Name, n)) throw new ImportException($"{where}: node '{n.Name}' is defined twice");
                foreach (var input in n.Input)
                {
                    string src = InputNode(input);
                    if (!_consumers.TryGetValue(src, out var list)) _consumers[src] = list = new List<NodeDef>();
                    list.Add(n);
                }
            }
        }

        public SafeTensorsFile Import(string path, byte[] bytes, ImportOptions options)
        {
            // Shapes first (no data decoded): width from the stem and the logits input, classes from the logits.
            var probe = new MobileNetV1Architecture(1.0, 224, 1001);
            var stemConv = FindConv(probe.Layers[0]);
            var logitsConv = FindConv(probe.Layers[^1]);
            int[] stemShape = ShapeOf(ResolveKernelConst(stemConv, out _), "stem kernel");
            int[] logitsShape = ShapeOf(ResolveKernelConst(logitsConv, out _), "logits kernel");
            if (stemShape.Length != 4 || stemShape[0] != 3 || stemShape[1] != 3 || stemShape[2] != 3)
                throw new ImportException($"{_where}: first convolution kernel has shape [{string.Join(",", stemShape)}], expected [3,3,3,C]");
            if (logitsShape.Length != 4 || logitsShape[0] != 1 || logitsShape[1] != 1)
                throw new ImportException($"{_where}: logits kernel has shape [{string.Join(",", logitsShape)}], expected [1,1,C,N]");
            double alpha = ImportCommon.AlphaFromWidths(stemShape[3], logitsShape[2], _where);
            int numClasses = logitsShape[3];
            if (numClasses < 1 || numClasses > 100000) throw new ImportException($"{_where}: {numClasses} classes is out of range");
            var variant = ImportCommon.ResolveVariant(alpha, InputResolution(), options, _where);
            var arch = new MobileNetV1Architecture(variant, numClasses);

            var layers = new Dictionary<string, (KernelData, float[]?, float[])>();
            var floatKernels = new List<string>();
            var quantKernels = new List<string>();
            bool foldedBn = false;
            foreach (var l in arch.Layers)
            {
                if (l.Kind == LayerKind.GlobalAveragePool) continue;
                var conv = FindConv(l);
                var kernel = ReadKernel(conv, l);
                (kernel.IsQuantized ? quantKernels : floatKernels).Add(l.Name);
                if (l.Kind == LayerKind.Logits)
                {
                    var biasAdd = SingleConsumer(conv, "BiasAdd", "Add", "AddV2");
                    float[] bias = ReadFloatConst(OtherConstInput(biasAdd, conv), new[] { l.OutC }, $"{l.SlimName} biases");
                    layers[l.Name] = (kernel, null, bias);
                }
                else
                {
                    var (scale, bias, folded) = ReadBatchNorm(conv, l);
                    foldedBn |= folded;
                    layers[l.Name] = (kernel, scale, bias);
                }
            }

            string desc = quantKernels.Count > 0
                ? $"TF quantize_weights frozen graph: quint8 MIN_FIRST kernels for {string.Join(",", quantKernels)}, all other kernels float32; BatchNorm pre-folded by TF (scale=batchnorm/mul for depthwise, 1 where folded into the kernel; bias=batchnorm/sub)."
                : foldedBn
                    ? "TF frozen graph, float32 kernels; BatchNorm pre-folded by TF (scale=batchnorm/mul or 1, bias=batchnorm/sub)."
                    : "TF-slim frozen graph, float32 kernels; BatchNorm folded by the importer in double (eps 0.001) from gamma/beta/moving_mean/moving_variance.";
            return ImportCommon.Build(arch, variant, layers, options, path, "tf-graphdef", ImportCommon.Sha256Hex(bytes), "unknown",
                $"{desc} Imported by MobileNetGen.Importers; Google MobileNet v1 weights, Apache-2.0.");
        }

        private static string InputNode(string input)
        {
            string s = input.StartsWith('^') ? input[1..] : input;
            int colon = s.LastIndexOf(':');
            if (colon > 0 && int.TryParse(s.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _)) s = s[..colon];
            return s;
        }

        private NodeDef Node(string input, string what)
        {
            string name = InputNode(input);
            return _nodes.TryGetValue(name, out var n) ? n : throw new ImportException($"{_where}: {what} refers to node '{name}', which does not exist");
        }

        /// <summary>Follows Identity nodes (the variables' <c>/read</c>) to the producing node.</summary>
        private NodeDef Resolve(string input, string what)
        {
            var n = Node(input, what);
            for (int i = 0; n.Op == "Identity"; i++)
            {
                if (i >= MaxIdentityChain || n.Input.Count == 0) throw new ImportException($"{_where}: {what}: Identity chain at '{n.Name}' does not end in a constant");
                n = Node(n.Input[0], what);
            }
            return n;
        }

        private NodeDef FindConv(LayerSpec l)
        {
            string op = l.Kind == LayerKind.Depthwise3x3 ? "DepthwiseConv2dNative" : "Conv2D";
            string p1 = "MobilenetV1/MobilenetV1/" + l.SlimName + "/", p2 = "MobilenetV1/" + l.SlimName + "/";
            var found = _all.Where(n => n.Op == op && (n.Name.StartsWith(p1, StringComparison.Ordinal) || n.Name.StartsWith(p2, StringComparison.Ordinal))).ToList();
            if (found.Count == 0) throw new ImportException($"{_where}: no {op} node under '{p1}' or '{p2}' (not a TF-slim MobileNet v1 graph?)");
            if (found.Count > 1) throw new ImportException($"{_where}: {found.Count} {op} nodes under the scope of {l.SlimName}: {string.Join(", ", found.Select(f => f.Name))}");
            if (found[0].Input.Count < 2) throw new ImportException($"{_where}: '{found[0].Name}' has {found[0].Input.Count} inputs, expected input and filter");
            return found[0];
        }

        /// <summary>The constant holding the filter: a float Const, or the quint8 Const behind a Dequantize.</summary>
        private NodeDef ResolveKernelConst(NodeDef conv, out NodeDef? dequantize)
        {
            var n = Resolve(conv.Input[1], $"filter of '{conv.Name}'");
            dequantize = null;
            if (n.Op == "Dequantize")
            {
                dequantize = n;
                if (n.Input.Count < 3) throw new ImportException($"{_where}: Dequantize '{n.Name}' has {n.Input.Count} inputs, expected 3");
                n = Resolve(n.Input[0], $"input of '{n.Name}'");
            }
            if (n.Op != "Const") throw new ImportException($"{_where}: the filter of '{conv.Name}' comes from a {n.Op} node '{n.Name}', not a constant (graph not frozen?)");
            return n;
        }

        private KernelData ReadKernel(NodeDef conv, LayerSpec l)
        {
            var c = ResolveKernelConst(conv, out var deq);
            string what = $"{l.SlimName} kernel '{c.Name}'";
            if (deq == null) return KernelData.Float(ReadFloatConst(c, l.KernelShape, what));
            string mode = deq.Attr.TryGetValue("mode", out var m) ? m.S.ToStringUtf8() : "MIN_COMBINED";
            if (mode != "MIN_FIRST") throw new ImportException($"{_where}: Dequantize '{deq.Name}' uses mode {mode}; only MIN_FIRST (TF quantize_weights) is supported");
            var t = TensorOf(c, what);
            if (t.Dtype != DataType.DtQuint8) throw new ImportException($"{_where}: {what} is {t.Dtype}, expected quint8 under Dequantize");
            CheckShape(t, l.KernelShape, what);
            int n = (int)Elements(l.KernelShape);
            if (t.TensorContent.Length != n) throw new ImportException($"{_where}: {what} holds {t.TensorContent.Length} bytes, expected {n} quint8 values (truncated?)");
            float min = ReadScalar(Resolve(deq.Input[1], $"min of '{deq.Name}'"), $"{l.SlimName} quantized min");
            float max = ReadScalar(Resolve(deq.Input[2], $"max of '{deq.Name}'"), $"{l.SlimName} quantized max");
            return KernelData.Quint8(t.TensorContent.ToByteArray(), min, max, $"{_where}: {l.SlimName}");
        }

        private (float[] Scale, float[] Bias, bool Folded) ReadBatchNorm(NodeDef conv, LayerSpec l)
        {
            string scope = "MobilenetV1/" + l.SlimName + "/BatchNorm/";
            var shape = new[] { l.OutC };
            if (_nodes.TryGetValue(scope + "moving_mean", out var meanNode))
            {
                float[] Get(string leaf) => ReadFloatConst(Resolve(scope + leaf, l.SlimName), shape, scope + leaf);
                float[] gamma = _nodes.ContainsKey(scope + "gamma") ? Get("gamma") : ImportCommon.Ones(l.OutC);
                float[] beta = _nodes.ContainsKey(scope + "beta") ? Get("beta") : new float[l.OutC];
                float[] mean = ReadFloatConst(Resolve(meanNode.Name, l.SlimName), shape, scope + "moving_mean");
                float[] variance = Get("moving_variance");
                string epsNode = "MobilenetV1/MobilenetV1/" + l.SlimName + "/BatchNorm/batchnorm/add/y";
                if (_nodes.TryGetValue(epsNode, out var e))
                {
                    float eps = ReadScalar(e, epsNode);
                    if (eps != (float)ImportCommon.BatchNormEpsilon)
                        throw new ImportException($"{_where}: {l.SlimName} BatchNorm epsilon is {eps}, the canonical form assumes {ImportCommon.BatchNormEpsilon}");
                }
                var (s, b) = ImportCommon.FoldBatchNorm(gamma, beta, mean, variance, $"{_where}: {l.SlimName}");
                return (s, b, false);
            }
            // Constant-folded BatchNorm: conv → [Mul by multiplier] → Add of offset.
            var next = SingleConsumer(conv, "Mul", "Add", "AddV2", "BiasAdd");
            float[] scale;
            if (next.Op == "Mul")
            {
                scale = ReadFloatConst(OtherConstInput(next, conv), shape, $"{l.SlimName} batchnorm/mul");
                var mul = next;
                next = SingleConsumer(mul, "Add", "AddV2", "BiasAdd");
                conv = mul;
            }
            else scale = ImportCommon.Ones(l.OutC);
            float[] bias = ReadFloatConst(OtherConstInput(next, conv), shape, $"{l.SlimName} batchnorm/sub");
            return (scale, bias, true);
        }

        private NodeDef SingleConsumer(NodeDef n, params string[] ops)
        {
            if (!_consumers.TryGetValue(n.Name, out var list) || list.Count == 0)
                throw new ImportException($"{_where}: nothing consumes '{n.Name}' (expected {string.Join("/", ops)})");
            var match = list.Where(c => ops.Contains(c.Op)).ToList();
            if (match.Count != 1)
                throw new ImportException($"{_where}: '{n.Name}' feeds {string.Join(", ", list.Select(c => c.Op + " " + c.Name))}; expected exactly one {string.Join("/", ops)}");
            return match[0];
        }

        private NodeDef OtherConstInput(NodeDef op, NodeDef from)
        {
            if (op.Input.Count != 2) throw new ImportException($"{_where}: '{op.Name}' has {op.Input.Count} inputs, expected 2");
            string other = InputNode(op.Input[0]) == from.Name ? op.Input[1] : op.Input[0];
            var c = Resolve(other, $"operand of '{op.Name}'");
            if (c.Op != "Const") throw new ImportException($"{_where}: operand '{c.Name}' of '{op.Name}' is a {c.Op}, expected a constant");
            return c;
        }

        private int? InputResolution()
        {
            var placeholders = _all.Where(n => n.Op == "Placeholder").ToList();
            var input = placeholders.FirstOrDefault(n => n.Name == "input") ?? (placeholders.Count == 1 ? placeholders[0] : null);
            if (input == null || !input.Attr.TryGetValue("shape", out var s) || s.Shape == null || s.Shape.UnknownRank || s.Shape.Dim.Count != 4) return null;
            long h = s.Shape.Dim[1].Size, w = s.Shape.Dim[2].Size;
            if (h <= 0 || w <= 0) return null;
            if (h != w || h > 4096) throw new ImportException($"{_where}: input placeholder is {h}x{w}; MobileNet v1 inputs are square");
            return (int)h;
        }

        private TensorProto TensorOf(NodeDef c, string what)
        {
            if (c.Op != "Const") throw new ImportException($"{_where}: {what}: node '{c.Name}' is a {c.Op}, expected Const");
            if (!c.Attr.TryGetValue("value", out var v) || v.Tensor == null) throw new ImportException($"{_where}: {what}: Const '{c.Name}' has no tensor value");
            return v.Tensor;
        }

        private int[] ShapeOf(NodeDef c, string what)
        {
            var t = TensorOf(c, what);
            if (t.TensorShape == null) return Array.Empty<int>();
            if (t.TensorShape.Dim.Count > 8) throw new ImportException($"{_where}: {what}: rank {t.TensorShape.Dim.Count} is too large");
            var shape = new int[t.TensorShape.Dim.Count];
            for (int i = 0; i < shape.Length; i++)
            {
                long d = t.TensorShape.Dim[i].Size;
                if (d < 0 || d > int.MaxValue) throw new ImportException($"{_where}: {what}: dimension {i} is {d}");
                shape[i] = (int)d;
            }
            return shape;
        }

        private void CheckShape(TensorProto t, int[] expected, string what)
        {
            var dims = t.TensorShape?.Dim;
            bool ok = dims != null && dims.Count == expected.Length;
            for (int i = 0; ok && i < expected.Length; i++) ok = dims![i].Size == expected[i];
            if (!ok) throw new ImportException($"{_where}: {what} has shape [{(dims == null ? "" : string.Join(",", dims.Select(d => d.Size)))}], the architecture needs [{string.Join(",", expected)}]");
        }

        private static long Elements(int[] shape) { long n = 1; foreach (int d in shape) n *= d; return n; }

        private float[] ReadFloatConst(NodeDef c, int[] expected, string what)
        {
            var t = TensorOf(c, what);
            if (t.Dtype != DataType.DtFloat) throw new ImportException($"{_where}: {what} '{c.Name}' is {t.Dtype}, expected float32");
            CheckShape(t, expected, what);
            return FloatValues(t, Elements(expected), what);
        }

        private float[] FloatValues(TensorProto t, long n, string what)
        {
            if (t.TensorContent.Length > 0)
            {
                if (t.TensorContent.Length != n * 4) throw new ImportException($"{_where}: {what} holds {t.TensorContent.Length} bytes, expected {n * 4} (truncated?)");
                return ImportCommon.FloatsFromBytes(t.TensorContent.Span);
            }
            if (t.FloatVal.Count == n) return t.FloatVal.ToArray();
            if (t.FloatVal.Count == 1)
            {
                var a = new float[n];
                Array.Fill(a, t.FloatVal[0]);
                return a;
            }
            throw new ImportException($"{_where}: {what} has {t.FloatVal.Count} float values and no tensor_content, expected {n}");
        }

        private float ReadScalar(NodeDef c, string what)
        {
            var t = TensorOf(c, what);
            if (t.Dtype != DataType.DtFloat) throw new ImportException($"{_where}: {what} '{c.Name}' is {t.Dtype}, expected float32");
            long n = 1;
            foreach (var d in t.TensorShape?.Dim ?? new Google.Protobuf.Collections.RepeatedField<TensorShapeProto.Types.Dim>()) n *= d.Size;
            if (n != 1) throw new ImportException($"{_where}: {what} '{c.Name}' is not a scalar");
            return FloatValues(t, 1, what)[0];
        }
    }
}
