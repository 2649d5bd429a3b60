package takedown

import (
	"testing"
	"time"
)

func TestFingerprint(t *testing.T) {
	t.Parallel()
	found := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	base := Submission{AgencyID: 1, RawInput: "https://t.me/x_example", Notes: "n", Tags: []string{"b", "a"}, FoundAt: &found, Attributes: map[string]string{"k": "v", "j": "w"}}
	same := base
	same.Tags = []string{"a", "b"}                      // tag order does not matter
	same.Source, same.SubmittedAt = "other", time.Now() // nor where and when it was recorded
	local := found.In(time.FixedZone("X", 3600))
	same.FoundAt = &local // nor the time zone of the same instant
	if base.Fingerprint() != same.Fingerprint() {
		t.Error("fingerprint depends on tag order, source, submission time or time zone")
	}
	for name, change := range map[string]func(s *Submission){
		"agency": func(s *Submission) { s.AgencyID = 2 },
		"input":  func(s *Submission) { s.RawInput += "/" },
		"notes":  func(s *Submission) { s.Notes = "m" },
		"tags":   func(s *Submission) { s.Tags = []string{"a"} },
		"found":  func(s *Submission) { s.FoundAt = nil },
		"attr":   func(s *Submission) { s.Attributes = map[string]string{"k": "v"} },
		"kind":   func(s *Submission) { s.DeclaredKind = "group" },
	} {
		other := base
		change(&other)
		if other.Fingerprint() == base.Fingerprint() {
			t.Errorf("changing %s does not change the fingerprint", name)
		}
	}
}

func TestRefine(t *testing.T) {
	t.Parallel()
	tg := Recognition{Platform: PlatformTelegram, Kind: KindChannel}
	if got := tg.Refine(KindGroup).Kind; got != KindGroup {
		t.Errorf("a Telegram name declared a group is %q", got)
	}
	if got := tg.Refine(KindPost).Kind; got != KindChannel {
		t.Errorf("a Telegram name declared a post is %q, want channel", got)
	}
	x := Recognition{Platform: PlatformX, Kind: KindAccount}
	if got := x.Refine(KindChannel).Kind; got != KindAccount {
		t.Errorf("an X account declared a channel is %q, want account", got)
	}
}

func TestCursor(t *testing.T) {
	t.Parallel()
	for _, id := range []int64{1, 42, 1 << 50} {
		got, err := DecodeCursor(EncodeCursor(id))
		if err != nil || got != id {
			t.Errorf("cursor of %d decodes to %d, %v", id, got, err)
		}
	}
	for _, bad := range []string{"", "garbage", "aTA", "eDE", "!!"} {
		if _, err := DecodeCursor(bad); ErrorCode(err) != EINVALID {
			t.Errorf("DecodeCursor(%q): %v, want EINVALID", bad, err)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(EncodeCursor(7))
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := DecodeCursor(s)
		if err != nil {
			return
		}
		if id <= 0 {
			t.Fatalf("DecodeCursor(%q) = %d", s, id)
		}
		if again, err := DecodeCursor(EncodeCursor(id)); err != nil || again != id {
			t.Fatalf("round trip of %d: %d, %v", id, again, err)
		}
	})
}

func TestPrepare(t *testing.T) {
	t.Parallel()
	n := NewSubmission{
		Item:       Recognition{Identity: "telegram:x_example", Canonical: "https://t.me/x_example", Platform: PlatformTelegram, Kind: KindChannel},
		Submission: Submission{AgencyID: 1, RawInput: "https://t.me/x_example", Notes: "n"},
	}
	if err := n.Prepare(); err != nil {
		t.Fatal(err)
	}
	if got, want := n.Fingerprint(), n.Submission.Fingerprint(); got != want {
		t.Errorf("prepared fingerprint %s, want %s", got, want)
	}
	bad := NewSubmission{Submission: Submission{AgencyID: 1}}
	if err := bad.Prepare(); ErrorCode(err) != EINVALID {
		t.Errorf("Prepare of a submission without URL: %v, want an EINVALID error", err)
	}
	if bad.fingerprint != "" {
		t.Error("Prepare fingerprinted a submission that failed validation")
	}
}
