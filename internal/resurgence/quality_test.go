package resurgence

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/takedown-project/takedown/internal/simnet"
)

// seededSet is the simulator's adversary at work on the small scenario
// (seeded): half of its channels and accounts removed, every one
// re-created, two days on; the removed items, the candidates and the
// ground truth.
func seededSet(t *testing.T) (removed, candidates []*Item, truth *simnet.ResurgenceTruth) {
	t.Helper()
	b, err := os.ReadFile("../simnet/scenarios/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := simnet.ParseScenario(append(b, []byte("adversary: {recreate: 1, delay: {median: 2h}, cross_platform: 0.2}\n")...))
	if err != nil {
		t.Fatal(err)
	}
	w, err := simnet.Generate(s)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if truth, err = w.WriteResurgenceSet(dir, w.RemoveForResurgence(0.5, s.Start), s.Start.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if removed, err = ReadProfiles(filepath.Join(dir, "removed.jsonl")); err != nil {
		t.Fatal(err)
	}
	if candidates, err = ReadProfiles(filepath.Join(dir, "candidates.jsonl")); err != nil {
		t.Fatal(err)
	}
	return removed, candidates, truth
}

// TestQuality runs the simulator's adversary (seeded) and measures the
// match list against its ground truth: precision and recall at the
// default threshold, per mutation, and the area under the
// precision-recall curve. It logs the figures (go test -v -run TestQuality).
func TestQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a world")
	}
	rs, cs, truth := seededSet(t)
	ms := MatchAll(rs, cs, 0)
	real := map[string]simnet.Succession{}
	for _, p := range truth.Pairs {
		real[strconv.Itoa(p.SuccessorID)+"<"+strconv.Itoa(p.PredecessorID)] = p
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Score > ms[j].Score })
	// Precision-recall over the ranking.
	tp, auc, prevRecall := 0, 0.0, 0.0
	for i, m := range ms {
		if _, ok := real[m.Candidate+"<"+m.Predecessor]; ok {
			tp++
			recall, precision := float64(tp)/float64(len(real)), float64(tp)/float64(i+1)
			auc += (recall - prevRecall) * precision
			prevRecall = recall
		}
	}
	// The system's match list: each candidate's best predecessor.
	found, listed := map[string]bool{}, 0
	for _, m := range Best(ms, 0.001) {
		if m.Score < DefaultThreshold {
			continue
		}
		listed++
		if _, ok := real[m.Candidate+"<"+m.Predecessor]; ok {
			found[m.Candidate+"<"+m.Predecessor] = true
		}
	}
	precision := float64(len(found)) / float64(max(listed, 1))
	recall := float64(len(found)) / float64(max(len(real), 1))
	t.Logf("%d removed, %d candidates, %d true successions; at threshold %.2f: %d listed, precision %.3f, recall %.3f; PR AUC %.3f",
		len(rs), len(cs), len(real), DefaultThreshold, listed, precision, recall, auc)
	// The goal.
	if recall < 0.95 || precision < 0.98 {
		t.Errorf("recall %.3f at precision %.3f: the goal is recall 0.95 at precision 0.98", recall, precision)
	}
	perMutation := map[string][2]int{}
	for k, p := range real {
		for _, mu := range p.Mutations {
			// "title:marker: ..." counts as "title:marker", `swap:"ab"
			// -> "ba" at 3` as "swap".
			parts := strings.SplitN(mu, ":", 3)
			mu = parts[0]
			if len(parts) == 3 {
				mu += ":" + strings.TrimSpace(parts[1])
			}
			c := perMutation[mu]
			c[1]++
			if found[k] {
				c[0]++
			}
			perMutation[mu] = c
		}
	}
	var names []string
	for n := range perMutation {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := perMutation[n]
		t.Logf("  %-24s recall %.3f (%d of %d)", n, float64(c[0])/float64(c[1]), c[0], c[1])
	}
}

func FuzzReadProfiles(f *testing.F) {
	f.Add(`{"id": "1", "handle": "nimir_gazette", "title": "Nimir Gazette", "posts": ["filler"], "links": ["https://example.org/a"]}` + "\n" + `{"id": "2"}`)
	f.Add(`{"id": ""}`)
	f.Add(`{"id": "1", "avatar": "../../etc/nothing.png"}`)
	f.Add("{")
	f.Fuzz(func(t *testing.T, s string) {
		items, err := readProfiles(strings.NewReader(s), t.TempDir(), "fuzz.jsonl")
		if err != nil {
			return
		}
		for _, c := range items {
			for _, r := range items {
				if sc, _ := Score(r, c); sc < 0 || sc > 1 {
					t.Fatalf("score %v", sc)
				}
			}
		}
	})
}
