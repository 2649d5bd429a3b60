package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/takedown-project/takedown/internal/outbound"
	"github.com/takedown-project/takedown/internal/simnet"
)

const smallScenario = "../../internal/simnet/scenarios/small.yaml"

// The demo runs a small scenario end to end and its figures must match the
// scenario's ground truth, which the test computes on its own from the same
// scenario.
func TestDemoUntilDone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := runTakedown(t, "", "demo", "--until-done", "--scenario", smallScenario, "--dir", dir, "--listen", "127.0.0.1:0", "--progress", "never")
	if code != 0 {
		t.Fatalf("demo: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	s := readScenario(t, smallScenario)
	world, err := simnet.Generate(s)
	if err != nil {
		t.Fatal(err)
	}
	truth, err := world.WriteExports(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`stored: (\d+) items, (\d+) submissions`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no stored figures in the demo's output:\n%s", out)
	}
	items, _ := strconv.Atoi(m[1])
	subs, _ := strconv.Atoi(m[2])
	if items != truth.Found || subs != truth.Submissions {
		t.Errorf("demo stored %d items and %d submissions; the ground truth is %d and %d", items, subs, truth.Found, truth.Submissions)
	}
	if len(s.Agencies) != 11 || !strings.Contains(out, "with 11 agencies") {
		t.Errorf("the demo's operation does not have the scenario's 11 agencies:\n%s", out)
	}
	totals := regexp.MustCompile(`total\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)`).FindStringSubmatch(out)
	if totals == nil || totals[1] != strconv.Itoa(truth.Rows) || totals[5] != strconv.Itoa(truth.Bad) {
		t.Errorf("import totals %v, want %d rows and %d rejected", totals, truth.Rows, truth.Bad)
	}
	// Every item preserved before its referral, in the evidence store.
	if !strings.Contains(out, fmt.Sprintf("7. preserved: %d items captured", truth.Found)) || strings.Index(out, "7. preserved") > strings.Index(out, "8. referred") {
		t.Errorf("the demo did not capture all %d items before referring them:\n%s", truth.Found, out)
	}
	if warcs, _ := filepath.Glob(filepath.Join(dir, "takedown.evidence", "??", "*.warc.gz")); len(warcs) < truth.Found {
		t.Errorf("%d WARC files in the evidence store, want one per item (%d)", len(warcs), truth.Found)
	}
	// Every item referred, every batch received once and acknowledged,
	// and the first answers in.
	if !strings.Contains(out, fmt.Sprintf("8. referred: %d items in", truth.Found)) {
		t.Errorf("the demo did not refer all %d items:\n%s", truth.Found, out)
	}
	last := regexp.MustCompile(`(\d+)/(\d+) batches delivered, (\d+) receipts confirmed; (\d+) of (\d+) items answered`).FindAllStringSubmatch(out, -1)
	if len(last) == 0 {
		t.Fatalf("no progress of the referrals:\n%s", out)
	}
	if p := last[len(last)-1]; p[1] != p[2] || p[3] != p[2] || p[4] == "0" || p[5] != strconv.Itoa(truth.Found) {
		t.Errorf("the referrals' last progress: %s", p[0])
	}
	// The network comes back; takedown finds successors, the demo's
	// analyst confirms them and they are referred again.
	res := regexp.MustCompile(`matches \d+ open, (\d+) confirmed \((\d+) of them true per the ground truth\), \d+ rejected; (\d+) successors referred again`).FindAllStringSubmatch(out, -1)
	if len(res) == 0 || !strings.Contains(out, "10. resurgence") {
		t.Fatalf("no resurgence in the demo's output:\n%s", out)
	}
	if p := res[len(res)-1]; p[3] == "0" || p[2] == "0" {
		t.Errorf("the demo's resurgence ended at %q: want successors confirmed (true ones) and referred again", p[0])
	}
	if !regexp.MustCompile(`(?m)^  all\s+\d+\s+[1-9]\d*\s+`).MatchString(out) {
		t.Errorf("no removed channel came back in the resurgence figures:\n%s", out)
	}
	for _, f := range truth.Files {
		rejected := filepath.Join(dir, "exports", strings.TrimSuffix(filepath.Base(f.Path), filepath.Ext(f.Path))+".rejected.csv")
		if _, err := os.Stat(rejected); err != nil {
			t.Errorf("the rejected rows of %s were not kept: %v", filepath.Base(f.Path), err)
		}
	}

	// Again in the same folder: nothing new, and still every figure right.
	code, out, errOut = runTakedown(t, "", "demo", "--until-done", "--scenario", smallScenario, "--dir", dir, "--listen", "127.0.0.1:0", "--progress", "never")
	if code != 0 || !strings.Contains(out, "every figure matches") {
		t.Fatalf("demo again: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if !strings.Contains(out, "7. preserved: 0 items captured") {
		t.Errorf("a second run captured again what it had:\n%s", out)
	}
	if totals := regexp.MustCompile(`total\s+\d+\s+(\d+)\s+(\d+)`).FindStringSubmatch(out); totals == nil || totals[1] != "0" || totals[2] != "0" {
		t.Errorf("a second run added items or submissions: %v", totals)
	}
}

// While the demo runs, its API answers, and takedown's outbound client
// reaches the simulated platforms under the items' real-looking URLs.
func TestDemoServes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr, token, stop := startDemo(t, dir)
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/operations/rad-2026-11/items?platform=telegram&kind=channel&limit=3", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Items []struct {
			URL string `json:"url"`
		} `json:"items"`
	}
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(page.Items) != 3 {
		t.Fatalf("items of the demo's operation: %s, %d items", resp.Status, len(page.Items))
	}
	cfg, err := outbound.LoadSimnet(filepath.Join(dir, "simnet.json"))
	if err != nil {
		t.Fatal(err)
	}
	client := cfg.HTTPClient(10 * time.Second)
	for _, it := range page.Items {
		preview := strings.Replace(it.URL, "https://t.me/", "https://t.me/s/", 1)
		resp, err := client.Get(preview)
		if err != nil {
			t.Fatalf("GET %s through the simulator: %v", preview, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "tgme_channel_info") {
			t.Errorf("GET %s: %s, no channel preview", preview, resp.Status)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("demo ended with %v after an interrupt, want a clean stop", err)
	}
}

// startDemo runs the demo of the small scenario in dir until it serves,
// and returns the API's address, the demo user's token, and the function
// that interrupts it and returns how it ended.
func startDemo(t *testing.T, dir string) (addr, token string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g := &globals{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, logLevel: "warn", logFormat: "text", logger: slog.New(slog.DiscardHandler)}
	o := &demoOptions{scenario: scenarioOptions{path: smallScenario}, dir: dir, listen: "127.0.0.1:0", progress: "never"}
	ready := make(chan [2]string, 1)
	o.ready = func(addr, token string) { ready <- [2]string{addr, token} }
	done := make(chan error, 1)
	go func() { done <- runDemo(ctx, g, o, true) }()
	var stopped bool
	var result error
	stop = func() error {
		if stopped {
			return result
		}
		stopped = true
		cancel()
		select {
		case result = <-done:
		case <-time.After(time.Minute):
			t.Fatal("demo did not stop after the interrupt")
		}
		return result
	}
	t.Cleanup(func() { stop() })
	select {
	case r := <-ready:
		return r[0], r[1], stop
	case err := <-done:
		stopped, result = true, err
		t.Fatalf("demo ended before serving: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("demo did not start serving")
	}
	return "", "", stop
}

// readScenario reads a scenario file.
func readScenario(t testing.TB, path string) *simnet.Scenario {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := simnet.ParseScenario(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A whole operation referred and answered: through the simulator's real
// SMTP server, webhook receivers and provider API, with the simulated
// liaisons answering through takedown's API; every item's recorded answer
// is the provider's decision (the demo checks each against the simulator).
func TestDemoAnswered(t *testing.T) {
	t.Parallel()
	code, out, errOut := runTakedown(t, "", "demo", "--until-done", "--all-answers", "--scenario", filepath.Join("testdata", "answered.yaml"),
		"--listen", "127.0.0.1:0", "--progress", "never")
	if code != 0 || !strings.Contains(out, "every figure matches") {
		t.Fatalf("demo: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	last := regexp.MustCompile(`(\d+) of (\d+) items answered: removed (\d+)`).FindAllStringSubmatch(out, -1)
	if len(last) == 0 || last[len(last)-1][1] != last[len(last)-1][2] {
		t.Errorf("not every item answered:\n%s", out)
	}
}
