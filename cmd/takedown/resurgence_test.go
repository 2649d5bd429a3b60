package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/takedown-project/takedown/internal/simnet"
)

// takedown resurgence match finds the simulated adversary's successors
// from files alone, in the stable format, and names a bad line.
func TestResurgenceMatch(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(smallScenario)
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
	truth, err := w.WriteResurgenceSet(dir, w.RemoveForResurgence(0.5, s.Start), s.Start.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runTakedown(t, "", "resurgence", "match", "--best", "--removed", filepath.Join(dir, "removed.jsonl"), "--candidates", filepath.Join(dir, "candidates.jsonl"))
	if code != 0 {
		t.Fatalf("match: exit %d: %s", code, errOut)
	}
	real := map[string]bool{}
	for _, p := range truth.Pairs {
		real[strconv.Itoa(p.SuccessorID)+"<"+strconv.Itoa(p.PredecessorID)] = true
	}
	right, lines := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct {
			Candidate, Predecessor string
			Score                  float64
			Signals                map[string]float64
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.Score < 0.7 || len(m.Signals) == 0 {
			t.Fatalf("line %q: %v", line, err)
		}
		lines++
		if real[m.Candidate+"<"+m.Predecessor] {
			right++
		}
	}
	if right < len(real)*95/100 || right < lines*98/100 {
		t.Errorf("%d of %d lines right, %d successions", right, lines, len(real))
	}
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"id": "1"}`+"\n"+`{"id": "2", "colour": "red"}`+"\n"), 0o600)
	if code, _, errOut := runTakedown(t, "", "resurgence", "match", "--removed", bad, "--candidates", bad); code == 0 || !strings.Contains(errOut, "line 2") {
		t.Errorf("a bad line: exit %d, %s", code, errOut)
	}
}
