package storetest

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/takedown-project/takedown"
)

// testCaptures: captures are recorded with their file's hash, listed
// newest first, and in the audit chain; bad ones are refused whole.
func testCaptures(t *testing.T, open Opener) {
	hb := setupHolds(t, open, "one", "two")
	db := hb.db
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 250_000_000, time.UTC)
	sha := strings.Repeat("ab", 32)
	first := &takedown.Capture{ItemID: hb.items["one"], At: t0, URL: "https://t.me/s/one", State: takedown.CaptureDone, Status: 200,
		SHA256: sha, Size: 12345, Location: "ab/" + sha + ".warc.gz", Records: 7, Resources: 2}
	failed := &takedown.Capture{ItemID: hb.items["one"], At: t0.Add(time.Hour), URL: "https://t.me/s/one", State: takedown.CaptureFailed,
		Reason: takedown.CaptureRemoved, Status: 200, SHA256: strings.Repeat("cd", 32), Size: 999, Location: "cd/" + strings.Repeat("cd", 32) + ".warc.gz", Records: 3}
	for _, c := range []*takedown.Capture{first, failed} {
		if err := db.RecordCapture(ctx, c); err != nil || c.ID == 0 {
			t.Fatalf("record %+v: %v", c, err)
		}
	}
	got, err := db.ListCaptures(ctx, hb.items["one"])
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff([]*takedown.Capture{failed, first}, got); diff != "" {
		t.Errorf("captures, newest first (-want +got):\n%s", diff)
	}
	if got, err := db.ListCaptures(ctx, hb.items["two"]); err != nil || len(got) != 0 {
		t.Errorf("an item without captures: %v, %v", got, err)
	}
	if _, err := db.ListCaptures(ctx, 999999); takedown.ErrorCode(err) != takedown.ENOTFOUND {
		t.Errorf("captures of no item: %v", err)
	}
	for name, bad := range map[string]*takedown.Capture{
		"no item":  {ItemID: 999999, At: t0, State: takedown.CaptureFailed, Reason: takedown.CaptureNetwork},
		"no state": {ItemID: hb.items["two"], At: t0},
		"no hash":  {ItemID: hb.items["two"], At: t0, State: takedown.CaptureDone},
		"bad hash": {ItemID: hb.items["two"], At: t0, State: takedown.CaptureDone, SHA256: "ABC"},
		"no time":  {ItemID: hb.items["two"], State: takedown.CaptureFailed, Reason: takedown.CaptureNetwork},
	} {
		if err := db.RecordCapture(ctx, bad); err == nil {
			t.Errorf("%s: recorded", name)
		}
	}
	if got, err := db.ListCaptures(ctx, hb.items["two"]); err != nil || len(got) != 0 {
		t.Errorf("a refused capture left something: %v, %v", got, err)
	}
	// The chain vouches for the file: its hash is in the event.
	evs, err := db.ListAudit(ctx, takedown.AuditFilter{Subject: "item:" + strconv.FormatInt(hb.items["one"], 10)})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range evs {
		if strings.HasPrefix(ev.Action, "item.capture") {
			actions = append(actions, ev.Action)
			if !strings.Contains(string(ev.Details), `"sha256":"`) {
				t.Errorf("%s without the file's hash: %v", ev.Action, ev.Details)
			}
		}
	}
	if strings.Join(actions, ",") != "item.capture,item.capture_failed" {
		t.Errorf("capture events %v", actions)
	}
	if _, _, err := takedown.VerifyAudit(ctx, db); err != nil {
		t.Errorf("the chain after captures: %v", err)
	}
}

// testEvidenceGate: an operation's evidence policy decides which items
// may be referred: before, once a capture was tried; required, once one
// preserved the item or found it removed; off, without waiting.
func testEvidenceGate(t *testing.T, open Opener) {
	b := setup(t, open)
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	sha := strings.Repeat("ef", 32)
	want := map[takedown.EvidencePolicy][]string{
		takedown.EvidenceBefore:   {"captured", "unreachable", "gone"},
		takedown.EvidenceRequired: {"captured", "gone"},
		takedown.EvidenceOff:      {"uncaptured", "captured", "unreachable", "gone"},
	}
	for _, policy := range []takedown.EvidencePolicy{takedown.EvidenceBefore, takedown.EvidenceRequired, takedown.EvidenceOff} {
		op := &takedown.Operation{Slug: "ev-" + string(policy), Name: "Evidence " + string(policy), Status: takedown.OperationOpen, Agencies: []string{"aa-iru"}, Evidence: policy}
		if err := b.db.CreateOperation(ctx, op); err != nil {
			t.Fatal(err)
		}
		if found, err := b.db.FindOperation(ctx, op.Slug); err != nil || found.Evidence != policy {
			t.Fatalf("operation %s: evidence %v, %v", op.Slug, found, err)
		}
		names := []string{"uncaptured", "captured", "unreachable", "gone"}
		var subs []takedown.NewSubmission
		for _, n := range names {
			subs = append(subs, b.sub(b.a, string(policy)+"_"+n, ""))
		}
		res, err := b.db.Submit(ctx, op.ID, subs)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[int64]string{}
		for i, r := range res {
			byID[r.ItemID] = names[i]
		}
		for _, c := range []*takedown.Capture{
			{ItemID: res[1].ItemID, At: t0, URL: "u", State: takedown.CaptureDone, Status: 200, SHA256: sha, Size: 1, Location: "ef/x"},
			{ItemID: res[2].ItemID, At: t0, URL: "u", State: takedown.CaptureFailed, Reason: takedown.CaptureNetwork},
			{ItemID: res[3].ItemID, At: t0, URL: "u", State: takedown.CaptureFailed, Reason: takedown.CaptureRemoved, Status: 200, SHA256: sha, Size: 1, Location: "ef/x"},
		} {
			if err := b.db.RecordCapture(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		items, err := b.db.ReferableItems(ctx, op.ID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range items {
			got = append(got, byID[it.ID])
		}
		slices.Sort(got)
		w := slices.Sorted(slices.Values(want[policy]))
		if !slices.Equal(got, w) {
			t.Errorf("policy %s: referable %v, want %v", policy, got, want[policy])
		}
	}
	if err := b.db.CreateOperation(ctx, &takedown.Operation{Slug: "ev-bad", Name: "x", Status: takedown.OperationOpen, Evidence: "sometimes"}); takedown.ErrorCode(err) != takedown.EINVALID {
		t.Errorf("an unknown evidence policy: %v", err)
	}
}

// testDueCaptures: what the capture job takes: items of operations that
// ask for evidence, never captured or failed for a passing reason, within
// the attempts and after the wait.
func testDueCaptures(t *testing.T, open Opener) {
	b := setup(t, open)
	t0 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	sha := strings.Repeat("ab", 32)
	op := &takedown.Operation{Slug: "ev-due", Name: "Due", Status: takedown.OperationOpen, Agencies: []string{"aa-iru"}}
	if err := b.db.CreateOperation(ctx, op); err != nil {
		t.Fatal(err)
	}
	names := []string{"never", "captured", "failed_old", "failed_recent", "removed", "failed_thrice"}
	var subs []takedown.NewSubmission
	for _, n := range names {
		subs = append(subs, b.sub(b.a, "due_"+n, ""))
	}
	res, err := b.db.Submit(ctx, op.ID, subs)
	if err != nil {
		t.Fatal(err)
	}
	id := map[string]int64{}
	name := map[int64]string{}
	for i, r := range res {
		id[names[i]], name[r.ItemID] = r.ItemID, names[i]
	}
	failed := func(n string, at time.Time, reason string) *takedown.Capture {
		return &takedown.Capture{ItemID: id[n], At: at, URL: "u", State: takedown.CaptureFailed, Reason: reason}
	}
	for _, c := range []*takedown.Capture{
		{ItemID: id["captured"], At: t0, URL: "u", State: takedown.CaptureDone, Status: 200, SHA256: sha, Size: 1, Location: "ab/x"},
		failed("failed_old", t0.Add(-time.Hour), takedown.CaptureNetwork),
		failed("failed_recent", t0.Add(-time.Minute), takedown.CaptureTimeout),
		failed("removed", t0.Add(-time.Hour), takedown.CaptureRemoved),
		failed("failed_thrice", t0.Add(-3*time.Hour), takedown.CaptureNetwork),
		failed("failed_thrice", t0.Add(-2*time.Hour), takedown.CaptureUnknown),
		failed("failed_thrice", t0.Add(-time.Hour), takedown.CaptureNetwork),
	} {
		if err := b.db.RecordCapture(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	due := func(p takedown.CapturePolicy, after int64, limit int) []string {
		ts, err := b.db.DueCaptures(ctx, p, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tg := range ts {
			if tg.Operation != "ev-due" || tg.URL == "" {
				t.Errorf("target %+v", tg)
			}
			out = append(out, name[tg.ItemID])
		}
		slices.Sort(out)
		return out
	}
	p := takedown.CapturePolicy{Attempts: 3, RetryBefore: t0.Add(-10 * time.Minute)}
	if got := due(p, 0, 100); !slices.Equal(got, []string{"failed_old", "never"}) {
		t.Errorf("due captures %v, want failed_old and never", got)
	}
	if got := due(takedown.CapturePolicy{Attempts: 1, RetryBefore: t0}, 0, 100); !slices.Equal(got, []string{"never"}) {
		t.Errorf("due captures at one attempt %v, want never", got)
	}
	if got := due(p, 0, 1); len(got) != 1 {
		t.Errorf("a limit of 1 gave %v", got)
	}
	// The operation of the shared bundle does not ask for evidence.
	if _, err := b.db.Submit(ctx, b.op.ID, []takedown.NewSubmission{b.sub(b.a, "unasked", "")}); err != nil {
		t.Fatal(err)
	}
	if got := due(p, 0, 100); len(got) != 2 {
		t.Errorf("an operation without evidence gave due captures: %v", got)
	}
}
