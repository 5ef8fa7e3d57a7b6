using Microsoft.ML;
using Microsoft.ML.Data;

namespace NoteLLM.MLNet.DataViews;

/// <summary>What a transformer expects an input column to hold.</summary>
public enum InputColumnKind
{
    /// <summary>A text scalar (<see cref="TextDataViewType"/>; POCO <see cref="string"/>). Read as a <see cref="string"/>.</summary>
    Text,

    /// <summary>A list of strings: either a vector of text (POCO <c>string[]</c>) or one text value
    /// holding the items separated by <see cref="InputColumn.ListSeparators"/>. Read as a <c>string[]</c>.</summary>
    TextList,
}

/// <summary>
/// An input column a transformer reads: its name, what it must hold, and how to read it. Checking happens
/// up front (<see cref="Check(DataViewSchema)"/>), with an error naming the column and what was expected.
/// </summary>
public sealed class InputColumn
{
    /// <summary>Separators of a <see cref="InputColumnKind.TextList"/> given as one text value when none are
    /// named: comma, semicolon, newline.</summary>
    public static IReadOnlyList<char> DefaultListSeparators { get; } = new[] { ',', ';', '\n' };

    private readonly char[] separators;

    private InputColumn(string name, InputColumnKind kind, char[] separators)
    {
        if (string.IsNullOrEmpty(name))
            throw new ArgumentException("An input column needs a name.", nameof(name));
        Name = name;
        Kind = kind;
        this.separators = separators;
    }

    /// <summary>A text column.</summary>
    public static InputColumn Text(string name) => new(name, InputColumnKind.Text, Array.Empty<char>());

    /// <summary>A list-of-strings column: a vector of text, or one text value split at
    /// <paramref name="separators"/> (default <see cref="DefaultListSeparators"/>). Items are trimmed and empty
    /// items dropped.</summary>
    public static InputColumn TextList(string name, params char[] separators) =>
        new(name, InputColumnKind.TextList, separators is { Length: > 0 } ? (char[])separators.Clone() : DefaultListSeparators.ToArray());

    /// <summary>The column's name in the input schema.</summary>
    public string Name { get; }

    /// <summary>What the column must hold.</summary>
    public InputColumnKind Kind { get; }

    /// <summary>For <see cref="InputColumnKind.TextList"/>: the characters that separate items in a single text value.</summary>
    public IReadOnlyList<char> ListSeparators => separators;

    /// <summary>What the column must hold, in words (used in error messages).</summary>
    public string Expected => Kind == InputColumnKind.Text ? "Text" : "a vector of Text or Text";

    /// <summary>Finds the column in <paramref name="schema"/> and checks its type.</summary>
    /// <returns>The column.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or has the wrong type; the message names
    /// the column, its type and what was expected.</exception>
    public DataViewSchema.Column Check(DataViewSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var column = schema.GetColumnOrNull(Name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Column '{Name}' not found; expected {Expected}.");
        if (!Accepts(column.Type))
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"Column '{Name}' has type {Describe(column.Type)} but expected {Expected}.");
        return column;
    }

    /// <summary>Checks the column in an estimator's input <see cref="SchemaShape"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The column is missing or has the wrong type.</exception>
    public void Check(SchemaShape schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (!schema.TryFindColumn(Name, out var column))
            throw new ArgumentOutOfRangeException(nameof(schema), $"Column '{Name}' not found; expected {Expected}.");
        bool isText = column.ItemType is TextDataViewType && !column.IsKey;
        bool ok = isText && (column.Kind == SchemaShape.Column.VectorKind.Scalar || Kind == InputColumnKind.TextList);
        if (!ok)
            throw new ArgumentOutOfRangeException(nameof(schema),
                $"Column '{Name}' has type {Describe(column)} but expected {Expected}.");
    }

    /// <summary>Creates a getter returning the current row's value of a <see cref="InputColumnKind.Text"/> column
    /// (a missing value reads as an empty string). <paramref name="row"/> must have the column active.</summary>
    public Func<string> CreateTextGetter(DataViewRow row)
    {
        if (Kind != InputColumnKind.Text)
            throw new InvalidOperationException($"Column '{Name}' is a {Kind} column; use {nameof(CreateTextListGetter)}.");
        var getter = row.GetGetter<ReadOnlyMemory<char>>(Check(row.Schema));
        ReadOnlyMemory<char> value = default;
        return () =>
        {
            getter(ref value);
            return value.ToString();
        };
    }

    /// <summary>Creates a getter returning the current row's items of a <see cref="InputColumnKind.TextList"/>
    /// column, from a vector of text or from one delimited text value. <paramref name="row"/> must have the column active.</summary>
    public Func<string[]> CreateTextListGetter(DataViewRow row)
    {
        if (Kind != InputColumnKind.TextList)
            throw new InvalidOperationException($"Column '{Name}' is a {Kind} column; use {nameof(CreateTextGetter)}.");
        var column = Check(row.Schema);
        if (column.Type is TextDataViewType)
        {
            var getter = row.GetGetter<ReadOnlyMemory<char>>(column);
            ReadOnlyMemory<char> value = default;
            return () =>
            {
                getter(ref value);
                return SplitList(value.Span, separators);
            };
        }

        var vectorGetter = row.GetGetter<VBuffer<ReadOnlyMemory<char>>>(column);
        VBuffer<ReadOnlyMemory<char>> vector = default;
        return () =>
        {
            vectorGetter(ref vector);
            var items = new List<string>(vector.Length);
            // Dense values: a sparse text vector's implicit entries are empty strings, which are dropped anyway.
            foreach (var item in vector.GetValues())
            {
                var trimmed = item.Span.Trim();
                if (!trimmed.IsEmpty)
                    items.Add(trimmed.ToString());
            }
            return items.ToArray();
        };
    }

    /// <summary>Splits a delimited list into trimmed, non-empty items.</summary>
    public static string[] SplitList(ReadOnlySpan<char> text, IReadOnlyList<char> separators)
    {
        ArgumentNullException.ThrowIfNull(separators);
        var items = new List<string>();
        var separatorSpan = separators as char[] ?? separators.ToArray();
        while (!text.IsEmpty)
        {
            int end = text.IndexOfAny(separatorSpan);
            var item = (end < 0 ? text : text[..end]).Trim();
            if (!item.IsEmpty)
                items.Add(item.ToString());
            text = end < 0 ? ReadOnlySpan<char>.Empty : text[(end + 1)..];
        }
        return items.ToArray();
    }

    private bool Accepts(DataViewType type) => type is TextDataViewType
        || (Kind == InputColumnKind.TextList && type is VectorDataViewType { ItemType: TextDataViewType });

    /// <summary>A column type in words: <c>Text</c>, <c>Single</c>, <c>a vector of Text</c>, <c>a vector of Single (size 3)</c>.</summary>
    internal static string Describe(DataViewType type) => type switch
    {
        TextDataViewType => "Text",
        VectorDataViewType vector => $"a vector of {Describe(vector.ItemType)}" + (vector.Size > 0 ? $" (size {vector.Size})" : ""),
        KeyDataViewType key => $"Key<{key.RawType.Name}>",
        _ => type.RawType.Name,
    };

    private static string Describe(SchemaShape.Column column)
    {
        string item = column.IsKey ? $"Key<{column.ItemType.RawType.Name}>" : Describe(column.ItemType);
        return column.Kind == SchemaShape.Column.VectorKind.Scalar ? item : $"a vector of {item}";
    }
}
