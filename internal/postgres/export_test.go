package postgres

// FoldCountsAfter makes readers fold an operation's count deltas once
// there are more than n, and returns what restores the default.
func FoldCountsAfter(n int64) (restore func()) {
	old := compactAfter.Swap(n)
	return func() { compactAfter.Store(old) }
}
