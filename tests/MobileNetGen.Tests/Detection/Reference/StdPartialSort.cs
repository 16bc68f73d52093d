namespace MobileNetGen.Tests.ObjectDetection.Reference;

/// <summary>
/// <c>std::partial_sort(first, middle, last, comp)</c> as libstdc++ implements it, function by function:
/// <c>__partial_sort</c> → <c>__heap_select</c> + <c>__sort_heap</c> (<c>bits/stl_algo.h</c>), and the heap helpers
/// <c>__make_heap</c>, <c>__pop_heap</c>, <c>__adjust_heap</c>, <c>__push_heap</c> (<c>bits/stl_heap.h</c>). Iterators are
/// indices into <c>a</c>; <c>comp(x, y)</c> compares element values, as the C++ comparator does.
/// </summary>
/// <remarks>
/// std::partial_sort is not stable, and the order it gives equal elements is the library's: TFLite's Linux builds (GCC,
/// libstdc++) produce this order; libc++ (Android) has its own heap code and may order ties differently. TFLite calls it
/// in <c>DecreasingPartialArgSort</c> (<c>tensorflow/lite/kernels/detection_postprocess.cc</c>).
/// </remarks>
internal static class StdPartialSort
{
    public static void PartialSort<T>(T[] a, int first, int middle, int last, Func<T, T, bool> comp)
    {
        HeapSelect(a, first, middle, last, comp);
        SortHeap(a, first, middle, comp);
    }

    // __heap_select: make a heap of [first, middle); every later element that compares before the top replaces it.
    private static void HeapSelect<T>(T[] a, int first, int middle, int last, Func<T, T, bool> comp)
    {
        MakeHeap(a, first, middle, comp);
        for (int i = middle; i < last; ++i)
            if (comp(a[i], a[first]))
                PopHeap(a, first, middle, i, comp);
    }

    // __sort_heap
    private static void SortHeap<T>(T[] a, int first, int last, Func<T, T, bool> comp)
    {
        while (last - first > 1)
        {
            --last;
            PopHeap(a, first, last, last, comp);
        }
    }

    // __make_heap
    private static void MakeHeap<T>(T[] a, int first, int last, Func<T, T, bool> comp)
    {
        if (last - first < 2) return;
        int len = last - first;
        int parent = (len - 2) / 2;
        while (true)
        {
            T value = a[first + parent];
            AdjustHeap(a, first, parent, len, value, comp);
            if (parent == 0) return;
            parent--;
        }
    }

    // __pop_heap(first, last, result): the top goes to *result, *result's old value is sifted into [first, last).
    private static void PopHeap<T>(T[] a, int first, int last, int result, Func<T, T, bool> comp)
    {
        T value = a[result];
        a[result] = a[first];
        AdjustHeap(a, first, 0, last - first, value, comp);
    }

    // __adjust_heap
    private static void AdjustHeap<T>(T[] a, int first, int holeIndex, int len, T value, Func<T, T, bool> comp)
    {
        int topIndex = holeIndex;
        int secondChild = holeIndex;
        while (secondChild < (len - 1) / 2)
        {
            secondChild = 2 * (secondChild + 1);
            if (comp(a[first + secondChild], a[first + (secondChild - 1)]))
                secondChild--;
            a[first + holeIndex] = a[first + secondChild];
            holeIndex = secondChild;
        }
        if ((len & 1) == 0 && secondChild == (len - 2) / 2)
        {
            secondChild = 2 * (secondChild + 1);
            a[first + holeIndex] = a[first + (secondChild - 1)];
            holeIndex = secondChild - 1;
        }
        PushHeap(a, first, holeIndex, topIndex, value, comp);
    }

    // __push_heap
    private static void PushHeap<T>(T[] a, int first, int holeIndex, int topIndex, T value, Func<T, T, bool> comp)
    {
        int parent = (holeIndex - 1) / 2;
        while (holeIndex > topIndex && comp(a[first + parent], value))
        {
            a[first + holeIndex] = a[first + parent];
            holeIndex = parent;
            parent = (holeIndex - 1) / 2;
        }
        a[first + holeIndex] = value;
    }
}
