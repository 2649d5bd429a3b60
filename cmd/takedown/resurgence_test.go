package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/canon"
	"github.com/takedown-project/takedown/internal/simnet"
	"github.com/takedown-project/takedown/internal/sqlite"
	"github.com/takedown-project/takedown/internal/storetest"
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

// A new user's resurgence on the command line: items imported and
// captured, providers remove part of them, the adversary re-creates
// channels and announces them; `resurgence watch` finds and matches the
// successors, `resurgence matches` lists them, `resurgence review`
// confirms one (which goes to referral), and `resurgence figures` counts.
func TestResurgenceCommands(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(smallScenario)
	if err != nil {
		t.Fatal(err)
	}
	s, err := simnet.ParseScenario(append(b, []byte("adversary: {recreate: 0.8, delay: {median: 2h, p90: 12h, max: 2d}, cross_platform: 0.2}\n")...))
	if err != nil {
		t.Fatal(err)
	}
	clock := simnet.NewClock(s.Start, 1)
	srv, err := simnet.Start(context.Background(), simnet.Config{Scenario: s, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	info := filepath.Join(dir, "simnet.json")
	if _, err := writeSimnetInfo(srv.Info(), info); err != nil {
		t.Fatal(err)
	}
	world := srv.World()
	var urls []string
	for _, e := range world.Entities {
		if e.IsContainer() && (e.Platform == simnet.Telegram || e.Platform == simnet.X || e.Platform == simnet.YouTube) {
			urls = append(urls, e.URL)
		}
	}
	list := filepath.Join(dir, "channels.csv")
	if err := os.WriteFile(list, []byte("url\n"+strings.Join(urls, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "t.db")
	mustRun(t, "--db", db, "agency", "add", "aa-iru", "--name", "A")
	if out := mustRun(t, "--db", db, "operation", "create", "rad-1", "--name", "One", "--agencies", "aa-iru", "--evidence", "off", "--successors", "refer"); !strings.Contains(out, "successors: refer") {
		t.Errorf("operation create: %s", out)
	}
	if code, _, errOut := runTakedown(t, "", "--db", db, "operation", "create", "rad-2", "--name", "Two", "--successors", "sometimes"); code == 0 || !strings.Contains(errOut, "successor policy") {
		t.Errorf("a bad successor policy: exit %d, %s", code, errOut)
	}
	mustRun(t, "--db", db, "import", "--operation", "rad-1", "--agency", "aa-iru", "--progress", "never", list)
	fast := []string{"--simnet", info, "--probe-rate", "1000", "--probe-per-host", "16"}
	mustRun(t, append([]string{"--db", db, "evidence", "capture", "--operation", "rad-1", "--progress", "never", "--capture-resources", "1"}, fast...)...)

	// Providers remove part of the network; takedown confirms it.
	removed := world.RemoveForResurgence(0.4, clock.Now())
	confirmed := confirmRemoved(t, db, "rad-1", removed)
	clock.Advance(3 * 24 * time.Hour)

	code, out, errOut := runTakedown(t, "", append([]string{"--db", db, "resurgence", "watch", "--rounds", "3", "--watch-read-every", "1ns"}, fast...)...)
	if code != 0 {
		t.Fatalf("watch: exit %d\n%s%s", code, out, errOut)
	}
	m := regexp.MustCompile(`round 2: (\d+) items' signals from captures, (\d+) pages read, (\d+) candidates found, (\d+) new matches`).FindStringSubmatch(out)
	if m == nil || m[2] == "0" || m[4] == "0" || !strings.Contains(out, "round 1: "+strconv.Itoa(len(urls))+" items' signals from captures") {
		t.Fatalf("watch:\n%s", out)
	}

	out = mustRun(t, "--db", db, "resurgence", "matches", "--operation", "rad-1", "--state", "open", "--json")
	var first struct {
		ID        int64
		Score     float64
		Successor struct{ URL, Status string }
	}
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &first); err != nil || first.ID == 0 || first.Score < 0.7 || first.Successor.Status != "candidate" {
		t.Fatalf("matches --json: %v\n%s", err, out)
	}
	if table := mustRun(t, "--db", db, "resurgence", "matches", "--operation", "rad-1"); !strings.Contains(table, first.Successor.URL) || !strings.Contains(table, "posts") {
		t.Errorf("matches:\n%s", table)
	}
	id := strconv.FormatInt(first.ID, 10)
	for _, args := range [][]string{{"review", id}, {"review", id, "--confirm", "--reject"}, {"review", "x", "--confirm"}, {"review", id, "--confirm"}} {
		if code, _, errOut := runTakedown(t, "", append([]string{"--db", db, "resurgence"}, args...)...); code == 0 {
			t.Errorf("%v: exit 0 (%s)", args, errOut)
		}
	}
	out = mustRun(t, "--db", db, "resurgence", "review", id, "--confirm", "--agency", "aa-iru", "--note", "same posts")
	if !strings.Contains(out, "match "+id+" confirmed") || !strings.Contains(out, "(submitted)") {
		t.Errorf("review: %s", out)
	}
	if code, _, errOut := runTakedown(t, "", "--db", db, "resurgence", "review", id, "--reject"); code == 0 || !strings.Contains(errOut, "already") {
		t.Errorf("a second review: exit %d, %s", code, errOut)
	}
	out = mustRun(t, "--db", db, "resurgence", "figures", "--operation", "rad-1")
	if !regexp.MustCompile(`(?m)^  all\s+\d+\s+1\s+`).MatchString(out) || !strings.Contains(out, "preliminary") {
		t.Errorf("figures:\n%s", out)
	}
	var figures takedown.Resurgence
	if err := json.Unmarshal([]byte(mustRun(t, "--db", db, "resurgence", "figures", "--operation", "rad-1", "--json")), &figures); err != nil ||
		figures.Matches.Confirmed != 1 || len(figures.All) != 1 || len(figures.All[0].NotBack) < 2 {
		t.Errorf("figures --json: %+v, %v", figures, err)
	}

	// The operation's report, in every format, against what happened.
	var rep takedown.Report
	if err := json.Unmarshal([]byte(mustRun(t, "--db", db, "report", "--operation", "rad-1", "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	events := 0
	for _, c := range rep.StillOnline {
		events += c.Events
	}
	if rep.TakenOffline != confirmed || events != confirmed || !rep.Preliminary || rep.ByStatus[takedown.ItemCandidate] != figures.Matches.Candidates ||
		rep.Items != len(urls)+figures.Matches.Candidates+figures.Matches.Successors || rep.Resurgence == nil || rep.Resurgence.Matches.Confirmed != 1 {
		t.Errorf("report: %d taken offline (want %d), %d removals in the curves, %d items (%d submitted), %+v", rep.TakenOffline, confirmed, events, rep.Items, len(urls), rep.ByStatus)
	}
	md := mustRun(t, "--db", db, "report", "--operation", "rad-1")
	if !strings.Contains(md, fmt.Sprintf("**Taken offline: %d of %d items.**", confirmed, rep.Items)) || !strings.Contains(md, "Preliminary figures") {
		t.Errorf("report md:\n%s", md)
	}
	csvFile := filepath.Join(dir, "figures.csv")
	mustRun(t, "--db", db, "report", "--operation", "rad-1", "--format", "csv", "--out", csvFile)
	if b, _ := os.ReadFile(csvFile); !strings.Contains(string(b), "items,all,taken_offline,"+strconv.Itoa(confirmed)+"\n") {
		t.Errorf("report csv:\n%.1000s", b)
	}
	pdf := filepath.Join(dir, "figures.pdf")
	mustRun(t, "--db", db, "report", "--operation", "rad-1", "--format", "pdf", "--out", pdf)
	if b, _ := os.ReadFile(pdf); !strings.HasPrefix(string(b), "%PDF-") || len(b) < 3000 {
		t.Errorf("report pdf: %d bytes", len(b))
	}
	if code, _, errOut := runTakedown(t, "", "--db", db, "report", "--operation", "rad-1", "--format", "doc"); code == 0 || !strings.Contains(errOut, "md, csv, json, pdf") {
		t.Errorf("a bad format: exit %d, %s", code, errOut)
	}
}

// confirmRemoved records, as the verification would, that the removed
// entities' items were referred and are confirmed offline.
func confirmRemoved(t *testing.T, path, slug string, removed []*simnet.Entity) int {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	op, err := db.FindOperation(ctx, slug)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateProvider(ctx, &takedown.Provider{Code: "all-sim", Name: "All", Platforms: []takedown.Platform{takedown.PlatformTelegram, takedown.PlatformX, takedown.PlatformYouTube}}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range removed {
		rec, err := canon.Recognize(e.URL)
		if err != nil {
			t.Fatal(err)
		}
		page, err := db.ListItems(ctx, takedown.ItemFilter{OperationID: op.ID, Text: rec.Handle, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if it.URL == rec.Canonical {
				ids = append(ids, it.ID)
			}
		}
	}
	storetest.ConfirmOffline(t, db, op.ID, "all-sim", ids)
	return len(ids)
}
