# What the blocks of a trace would cost in three layouts (docs/allocators.md).
#
# For every `a ID SIZE` line: the bytes asked for; a heaplab chunk (a
# 16-byte header, the payload rounded to 16); a block in a class of its
# size rounded to 16 with no header (the class says the size); and a block
# in a power-of-two class of at least 16 bytes, no header (a buddy
# allocator, or slabs of powers of two). Percentages are the bytes asked for
# over the bytes each layout uses: the best utilization it allows.
#
#   awk -f docs/examples/size-classes.awk traces/small-blocks.rep
NR > 4 && $1 == "a" {
    n = $3 > 0 ? $3 : 1
    asked += n
    rounded = int((n + 15) / 16) * 16
    chunks += 16 + rounded
    classes += rounded
    power = 16
    while (power < n)
        power *= 2
    powers += power
}
END {
    printf "%s: %d bytes asked for\n", FILENAME, asked
    printf "  heaplab chunks (16-byte header)  %9d bytes, %5.1f%%\n", chunks, 100 * asked / chunks
    printf "  16-byte classes, no header       %9d bytes, %5.1f%%\n", classes, 100 * asked / classes
    printf "  power-of-two classes, no header  %9d bytes, %5.1f%%\n", powers, 100 * asked / powers
}
