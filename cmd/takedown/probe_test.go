package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/probe"
	"github.com/takedown-project/takedown/internal/simnet"
)

// takedown probe looks at an operation's items on the simulated internet
// and records what it sees: removed and withheld items first seen
// offline, then confirmed by a second look, live ones online, and a
// confirmed item that comes back reinstated. Its figures must match what
// the simulator was told.
func TestProbeCommand(t *testing.T) {
	t.Parallel()
	// Scenario time stands still enough at scale 1 that nothing the test
	// does not do happens between the looks.
	srv, dir, info, db := simnetOperation(t, "off")
	s := srv.World().Scenario
	items := listItems(t, db, "rad-1")
	if len(items) < 50 {
		t.Fatalf("only %d items imported", len(items))
	}

	// The world before the first look: some items removed, some withheld
	// in the probing region, the rest as the scenario made them.
	world, region := srv.World(), s.Region
	removed, withheld := items[:10], items[10:15]
	for _, it := range removed {
		if err := srv.SetStatus(it.URL, simnet.StatusRemoved); err != nil {
			t.Fatal(err)
		}
	}
	for _, it := range withheld {
		if err := srv.SetStatus(it.URL, simnet.StatusWithheld, region); err != nil {
			t.Fatal(err)
		}
	}

	probe := func(args ...string) (string, map[string]int) {
		t.Helper()
		// The simulator is this machine's: politeness limits can be high.
		args = append([]string{"--db", db, "probe", "--operation", "rad-1", "--simnet", info, "--probe-region", region, "--progress", "never",
			"--probe-rate", "500", "--probe-per-host", "16"}, args...)
		code, out, errOut := runTakedown(t, "", args...)
		if code != 0 {
			t.Fatalf("probe %v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out, probeChanges(t, out)
	}

	// A look before the referral is recorded but starts nothing: a
	// removal before the referral is not the referral's.
	out, ch := probe("--confirm-after", "0s")
	if ch["offline"] != 0 || ch["confirmed"] != 0 || ch["online"] != 0 || verdictCount(out, "offline", "removed") < len(removed) {
		t.Errorf("a look before the referral: %v\n%s", ch, out)
	}
	if c := statusCounts(listItems(t, db, "rad-1")); c[takedown.ItemSubmitted] != len(items) {
		t.Errorf("statuses after a look before the referral: %v", c)
	}
	// Referred (the directory has no contacts yet: every batch goes to
	// the providers' portal, received as it is made).
	if code, out, errOut := runTakedown(t, "", "--db", db, "refer", "--operation", "rad-1"); code != 0 {
		t.Fatalf("refer: %s%s", out, errOut)
	}

	// Items no provider claims wait in the unattributed queue, unreferred;
	// probes of those change nothing.
	live, offline, unreferred := 0, 0, 0
	for _, it := range listItems(t, db, "rad-1") {
		switch {
		case it.Status == takedown.ItemSubmitted:
			unreferred++
		case world.Status(world.Resolve(it.URL), srv.Clock().Now(), region) == simnet.StatusLive:
			live++
		default:
			offline++
		}
	}
	if offline < 15 || live == 0 || unreferred == len(items) {
		t.Fatalf("%d referred items offline, %d online, %d not referred: want the 15 the test took offline among the referred", offline, live, unreferred)
	}

	// First look: offline items are seen offline once, not yet confirmed.
	out, ch = probe("--confirm-after", "1h")
	if !strings.Contains(out, strconv.Itoa(len(items))+" items probed") {
		t.Errorf("not every item probed:\n%s", out)
	}
	if ch["offline"] != offline || ch["confirmed"] != 0 || ch["online"] != live {
		t.Errorf("first look: %v, want %d first seen offline and %d online\n%s", ch, offline, live, out)
	}
	if n := verdictCount(out, "offline", "withheld"); n != len(withheld) {
		t.Errorf("%d items withheld, want %d:\n%s", n, len(withheld), out)
	}
	// A second look too soon does not confirm.
	if _, ch = probe("--status", "offline", "--confirm-after", "1h"); ch["confirmed"] != 0 {
		t.Errorf("confirmed within --confirm-after: %v", ch)
	}
	// A second look after the interval confirms, and only the offline
	// items are looked at.
	out, ch = probe("--status", "offline", "--confirm-after", "0s")
	if ch["confirmed"] != offline || !strings.Contains(out, strconv.Itoa(offline)+" items probed") {
		t.Errorf("second look: %v, want %d confirmed\n%s", ch, offline, out)
	}
	counts := statusCounts(listItems(t, db, "rad-1"))
	if counts[takedown.ItemConfirmed] != offline || counts[takedown.ItemOnline] != live || counts[takedown.ItemSubmitted] != unreferred {
		t.Errorf("statuses after confirmation: %v", counts)
	}

	// A removed item comes back: reinstated, and flagged as such.
	if err := srv.SetStatus(removed[0].URL, simnet.StatusLive); err != nil {
		t.Fatal(err)
	}
	if _, ch = probe("--status", "confirmed_offline"); ch["reinstated"] != 1 {
		t.Errorf("reinstatement: %v, want 1", ch)
	}
	code, out, _ := runTakedown(t, "", "--db", db, "items", "show", strconv.FormatInt(removed[0].ID, 10))
	if code != 0 || !strings.Contains(out, "reinstated") {
		t.Errorf("the reinstated item does not say so:\n%s", out)
	}

	// Bad input: a clear error, nothing recorded.
	for _, bad := range [][]string{
		{"--operation", "nope"},
		{"--operation", "rad-1", "--probe-allow", "not-a-range"},
		{"--operation", "rad-1", "--progress", "sometimes"},
		{"--operation", "rad-1", "--probe-rules", filepath.Join(dir, "missing.yaml")},
	} {
		code, _, errOut := runTakedown(t, "", append([]string{"--db", db, "probe", "--simnet", info}, bad...)...)
		if code == 0 || errOut == "" {
			t.Errorf("probe %v: exit %d, stderr %q", bad, code, errOut)
		}
	}
}

func listItems(t *testing.T, db, op string) []takedown.Item {
	t.Helper()
	code, out, errOut := runTakedown(t, "", "--db", db, "items", "list", "--operation", op, "--limit", "0", "--json")
	if code != 0 {
		t.Fatalf("items list: %s", errOut)
	}
	var items []takedown.Item
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var it takedown.Item
		if err := dec.Decode(&it); err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	return items
}

func statusCounts(items []takedown.Item) map[takedown.ItemStatus]int {
	m := map[takedown.ItemStatus]int{}
	for _, it := range items {
		m[it.Status]++
	}
	return m
}

var changesLine = regexp.MustCompile(`changes: (\d+) first seen offline, (\d+) confirmed offline, (\d+) reinstated, (\d+) online`)

func probeChanges(t *testing.T, out string) map[string]int {
	t.Helper()
	m := changesLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no changes in the summary:\n%s", out)
	}
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	return map[string]int{"offline": n(m[1]), "confirmed": n(m[2]), "reinstated": n(m[3]), "online": n(m[4])}
}

func verdictCount(out, verdict, reason string) int {
	m := regexp.MustCompile(`(?m)^` + verdict + `\s+` + reason + `\s+(\d+)$`).FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// bench probe runs end to end on a small list: the child prober (this
// test binary, running main) probes every item over loopback hosts and
// classifies each page right.
func TestBenchProbe(t *testing.T) {
	t.Setenv(runMainEnv, "1")
	code, out, errOut := runTakedown(t, "", "bench", "probe", "--items", "300", "--hosts", "20", "--rate", "1000", "--per-host", "2")
	if code != 0 {
		t.Fatalf("bench probe: exit %d\n%s%s", code, out, errOut)
	}
	// Connections are kept: at most one per probe a host may take at once.
	m := regexp.MustCompile(`(?m)^takedown\s+300\s+.*\s(\d+)\s+online 200, offline 100$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("bench probe: want 300 probes, 200 online and 100 offline:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[1]); n < 20 || n > 40 {
		t.Errorf("bench probe: %d connections to 20 hosts, want 20 to 40 (2 per host at most)", n)
	}
	if code, _, errOut := runTakedown(t, "", "bench", "probe", "--hosts", "0"); code == 0 || !strings.Contains(errOut, "--hosts") {
		t.Errorf("bench probe --hosts 0: exit %d, %s", code, errOut)
	}
}

// takedown pdq prints the reference tool's format and hashes; a file it
// cannot read is said on stderr, the others are hashed all the same.
func TestPDQCommand(t *testing.T) {
	t.Parallel()
	ref := "../../../shared/testdata/pdq"
	if _, err := os.Stat(ref); err != nil {
		t.Skipf("no reference data: %v", err)
	}
	code, out, errOut := runTakedown(t, "", "pdq", filepath.Join(ref, "misc/wee.jpg"), filepath.Join(ref, "labelme/q0291.jpg"), filepath.Join(ref, "README.md"))
	if code != 1 || !strings.Contains(errOut, "README.md: not an image") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	want := "6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d,100," + filepath.Join(ref, "misc/wee.jpg") + "\n" +
		"a0fe94f1e5cc1cc8dd855948498dc9243f7ca27336f036d7f212b74bc103c9a7,100," + filepath.Join(ref, "labelme/q0291.jpg") + "\n"
	if out != want {
		t.Errorf("pdq printed:\n%s\nwant:\n%s", out, want)
	}
	code, out, _ = runTakedown(t, "", "pdq", "--dihedral", filepath.Join(ref, "misc/wee.jpg"))
	if code != 0 || strings.Count(out, "\n") != 8 || !strings.Contains(out, ",flipminus1\n") {
		t.Errorf("--dihedral: exit %d\n%s", code, out)
	}
}

func TestParseHostLimits(t *testing.T) {
	got, err := parseHostLimits([]string{"t.me=10/4", "slow.example=0.5"})
	if err != nil || got["t.me"] != (probe.HostLimit{Rate: 10, Concurrency: 4}) || got["slow.example"] != (probe.HostLimit{Rate: 0.5}) {
		t.Errorf("limits %v, %v", got, err)
	}
	for _, bad := range []string{"t.me", "=3", "t.me=fast", "t.me=0", "t.me=-1", "t.me=3/0", "t.me=3/x", "t.me=Inf"} {
		if _, err := parseHostLimits([]string{bad}); takedown.ErrorCode(err) != takedown.EINVALID {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if code, _, errOut := runTakedown(t, "", "--db", filepath.Join(t.TempDir(), "x.db"), "resurgence", "watch", "--probe-host-limit", "t.me=fast"); code == 0 || !strings.Contains(errOut, "probe-host-limit") {
		t.Errorf("a bad flag: exit %d, %s", code, errOut)
	}
}
