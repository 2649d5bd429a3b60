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
