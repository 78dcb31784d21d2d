"""Detection quality on code nobody here wrote: cases of reverted public fixes (cases), building them from
mirrors (build), scoring findings against labelled lines (score), the text/JSON/HTML reports, and the
`scale-review eval` command (run)."""
