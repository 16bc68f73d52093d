using System;
using System.Collections;
using System.Collections.Generic;

namespace MobileNetGen.Generator.Model
{
    /// <summary>An immutable array with structural equality, so that incremental pipeline models compare by value.</summary>
    internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IEnumerable<T> where T : IEquatable<T>
    {
        private readonly T[]? _items;
        public EquatableArray(T[] items) { _items = items; }
        public static readonly EquatableArray<T> Empty = new EquatableArray<T>(Array.Empty<T>());
        public int Count => _items?.Length ?? 0;
        public T this[int i] => _items![i];
        public bool Equals(EquatableArray<T> other)
        {
            var a = _items ?? Array.Empty<T>();
            var b = other._items ?? Array.Empty<T>();
            if (ReferenceEquals(a, b)) return true;
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++) if (!EqualityComparer<T>.Default.Equals(a[i], b[i])) return false;
            return true;
        }
        public override bool Equals(object? obj) => obj is EquatableArray<T> o && Equals(o);
        public override int GetHashCode()
        {
            int h = 17;
            foreach (var x in _items ?? Array.Empty<T>()) h = h * 31 + (x?.GetHashCode() ?? 0);
            return h;
        }
        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(_items ?? Array.Empty<T>())).GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
