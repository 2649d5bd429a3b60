package takedown

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// A Kaplan-Meier curve computed by hand: six removed channels, three back
// after 1, 3 and 3 hours and one after 5, two watched for 2 and 4 hours
// without coming back (censored).
func TestKaplanMeierByHand(t *testing.T) {
	h := time.Hour
	got := KaplanMeier([]time.Duration{1 * h, 2 * h, 3 * h, 3 * h, 4 * h, 5 * h}, []bool{true, false, true, true, false, true})
	// t=1h: 6 at risk, 1 back: 5/6. t=2h: one censored, 4 left.
	// t=3h: 4 at risk, 2 back: 5/6 * 2/4. t=4h: one censored, 1 left.
	// t=5h: 1 at risk, 1 back: 0.
	want := []SurvivalPoint{{0, 1, 6}, {3600, 0.833333, 6}, {3 * 3600, 0.416667, 4}, {5 * 3600, 0, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("curve %v, want %v", got, want)
	}
	// An item censored at the time of an event was at risk then.
	got = KaplanMeier([]time.Duration{2 * h, 2 * h, 3 * h}, []bool{false, true, true})
	want = []SurvivalPoint{{0, 1, 3}, {7200, 0.666667, 3}, {3 * 3600, 0, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tied curve %v, want %v", got, want)
	}
	if got := KaplanMeier(nil, nil); !reflect.DeepEqual(got, []SurvivalPoint{{0, 1, 0}}) {
		t.Errorf("empty curve %v", got)
	}
}

func TestSummarizeResurgence(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	ts := []ResurgenceTime{
		{ItemID: 1, Platform: PlatformTelegram, RemovedAt: t0, BackAt: at(2 * time.Hour)},
		{ItemID: 2, Platform: PlatformTelegram, RemovedAt: t0, BackAt: at(-time.Hour)}, // back before its removal was confirmed: 0
		{ItemID: 3, Platform: PlatformTelegram, RemovedAt: t0},
		{ItemID: 4, Platform: PlatformX, RemovedAt: t0.Add(time.Hour)},
	}
	fs := SummarizeResurgence(ts, t0.Add(10*time.Hour), func(t ResurgenceTime) string { return string(t.Platform) })
	if len(fs) != 2 || fs[0].Group != "telegram" || fs[1].Group != "x" {
		t.Fatalf("groups %+v", fs)
	}
	tg := fs[0]
	if tg.Removed != 3 || tg.Back != 2 || tg.Share != 0.6667 || tg.Median != 0 || tg.P90 != 7200 || tg.Min != 0 || tg.Max != 7200 {
		t.Errorf("telegram %+v", tg)
	}
	// Not back after 10 hours: censored, so the curve stays at 1/3.
	if last := tg.NotBack[len(tg.NotBack)-1]; last.Seconds != 7200 || last.Survival != 0.333333 {
		t.Errorf("telegram's curve %+v", tg.NotBack)
	}
	if x := fs[1]; x.Back != 0 || x.Share != 0 || len(x.NotBack) != 1 {
		t.Errorf("x %+v", x)
	}
}

func TestItemSignalsTrim(t *testing.T) {
	s := &ItemSignals{ItemID: 1, Title: "a\x00b\xffc" + strings.Repeat("é", MaxSignalTextBytes), Posts: make([]string, MaxSignalPosts+5)}
	for i := range MaxSignalLinks + 3 {
		s.Links = append(s.Links, "https://example.org/"+strings.Repeat("x", i))
	}
	s.Links = append(s.Links[:1], append([]string{"https://example.org/" + strings.Repeat("y", 5000)}, s.Links[1:]...)...)
	s.Trim()
	if len(s.Title) > MaxSignalTextBytes || strings.ContainsRune(s.Title, 0) || !strings.HasPrefix(s.Title, "ab\uFFFDc") || strings.HasSuffix(s.Title, "\xc3") {
		t.Errorf("title %q...", s.Title[:10])
	}
	if len(s.Posts) != MaxSignalPosts || len(s.Links) != MaxSignalLinks || strings.Contains(strings.Join(s.Links, ""), "yyyy") {
		t.Errorf("%d posts, %d links", len(s.Posts), len(s.Links))
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
}
