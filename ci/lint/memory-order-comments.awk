# ci/lint/memory-order-comments.awk — every memory_order in core/ must have a comment
# naming an order (or what it pairs with) on its line or within the 7 lines above.
# Flags memory_order uses with no nearby comment naming an order.
FNR == 1 { n = 0; delete buf }
{
  buf[FNR % 8] = $0
  if ($0 ~ /memory_order_(relaxed|acquire|release|acq_rel|seq_cst|consume)/ && $0 !~ /^\s*\/\//) {
    ok = 0
    for (i = 0; i < 8 && FNR - i > 0; i++) {
      l = buf[(FNR - i) % 8]
      if (l ~ /\/\/.*(relaxed|acquire|release|acq_rel|seq_cst|pairs)/) { ok = 1; break }
    }
    if (!ok) { printf "%s:%d: %s\n", FILENAME, FNR, $0; bad++ }
  }
}
END { exit bad > 0 }
