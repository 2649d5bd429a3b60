package storetest

import (
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
