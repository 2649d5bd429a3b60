package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
)

var update = flag.Bool("update", false, "write the golden files anew")

// The golden files are set in the standard fonts, whatever the machine
// has.
func init() { pdfFonts = nil }

// sample is a report of a small, invented operation, with every part
// filled.
func sample() *takedown.Report {
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	h := time.Hour
	times := []takedown.RemovalTime{
		{ItemID: 1, Provider: "chanhost", Platform: takedown.PlatformTelegram, ReferredAt: t0, RemovedAt: t0.Add(h)},
		{ItemID: 2, Provider: "chanhost", Platform: takedown.PlatformTelegram, ReferredAt: t0, RemovedAt: t0.Add(5 * h)},
		{ItemID: 3, Provider: "chanhost", Platform: takedown.PlatformTelegram, ReferredAt: t0},
		{ItemID: 4, Provider: "microblog", Platform: takedown.PlatformX, ReferredAt: t0, RemovedAt: t0.Add(30 * time.Minute)},
	}
	now := t0.Add(30 * h)
	r := &takedown.Report{Operation: "rad-1", Name: "Action day", AsOf: now, Preliminary: true, Items: 6, TakenOffline: 2,
		ByStatus: map[takedown.ItemStatus]int{takedown.ItemConfirmed: 2, takedown.ItemReinstated: 1, takedown.ItemOnline: 1, takedown.ItemSubmitted: 1, takedown.ItemCandidate: 1}}
	s := func(dim, group string, st takedown.ItemStatus, n int) takedown.BreakdownRow {
		return takedown.BreakdownRow{Dimension: dim, Group: group, Status: st, Count: n}
	}
	r.Breakdown = []takedown.BreakdownRow{
		s("kind", "channel", takedown.ItemConfirmed, 2), s("kind", "channel", takedown.ItemOnline, 1), s("kind", "post", takedown.ItemSubmitted, 1),
		s("platform", "telegram", takedown.ItemConfirmed, 1), s("platform", "x", takedown.ItemConfirmed, 1),
		s("agency", "aa-iru", takedown.ItemConfirmed, 2), s("agency", "bb-iru", takedown.ItemSubmitted, 1),
		s("provider", "", takedown.ItemSubmitted, 1), s("provider", "chanhost", takedown.ItemConfirmed, 1),
	}
	r.TimeToRemoval.All = takedown.SummarizeRemovalTimes(times, func(takedown.RemovalTime) string { return "all" })
	r.TimeToRemoval.ByProvider = takedown.SummarizeRemovalTimes(times, func(t takedown.RemovalTime) string { return t.Provider })
	r.TimeToRemoval.ByPlatform = takedown.SummarizeRemovalTimes(times, func(t takedown.RemovalTime) string { return string(t.Platform) })
	r.StillOnline = takedown.StillOnline(times, now, func(t takedown.RemovalTime) string { return string(t.Platform) })
	r.TakenOfflineOverTime = takedown.RemovalTimeline(times, 200)
	next := now.Add(20 * time.Minute)
	r.Orders = takedown.OrderClocks{Running: 1, Overdue: 1, NextDeadline: &next}
	back := t0.Add(7 * h)
	rt := []takedown.ResurgenceTime{{ItemID: 1, Platform: takedown.PlatformTelegram, RemovedAt: t0.Add(h), BackAt: &back}, {ItemID: 2, Platform: takedown.PlatformTelegram, RemovedAt: t0.Add(5 * h)}}
	r.Resurgence = &takedown.Resurgence{Operation: "rad-1", AsOf: now, Preliminary: true, Matches: takedown.MatchCounts{Open: 2, Confirmed: 1, Candidates: 3, Successors: 1, Referred: 1},
		All:        takedown.SummarizeResurgence(rt, now, func(takedown.ResurgenceTime) string { return "all" }),
		ByPlatform: takedown.SummarizeResurgence(rt, now, func(t takedown.ResurgenceTime) string { return string(t.Platform) })}
	return r
}

// sampleTransparency is a year's figures as TransparencyReport makes
// them.
func sampleTransparency() *takedown.Transparency {
	return &takedown.Transparency{Year: 2026, Authority: "Unit A | North", AsOf: time.Date(2027, 1, 15, 8, 0, 0, 0, time.UTC), Preliminary: true,
		NotRecorded: takedown.TransparencyNotRecorded,
		RemovalOrders: takedown.TransparencyOrders{Orders: 3, Items: 5, WithinHour: 2, Overdue: 1, Reinstated: 1,
			Outcomes:     map[takedown.Outcome]int{takedown.OutcomeRemoved: 2, takedown.OutcomeDisabled: 1, takedown.OutcomeRejected: 1, takedown.OutcomePending: 1},
			CannotComply: map[string]int{"technical": 1},
			ByProvider: []takedown.TransparencyProvider{
				{Provider: "aa-host", Orders: 2, Items: 3, Outcomes: map[takedown.Outcome]int{takedown.OutcomeRemoved: 2, takedown.OutcomeDisabled: 1}},
				{Provider: "bb-host", Orders: 1, Items: 2, Outcomes: map[takedown.Outcome]int{takedown.OutcomeRejected: 1, takedown.OutcomePending: 1}},
			}},
		Referrals: takedown.TransparencyReferrals{Referrals: 1, Items: 2, Outcomes: map[takedown.Outcome]int{takedown.OutcomeRemoved: 1, takedown.OutcomeNoAnswer: 1},
			ByProvider: []takedown.TransparencyProvider{{Provider: "aa-host", Orders: 1, Items: 2, Outcomes: map[takedown.Outcome]int{takedown.OutcomeRemoved: 1, takedown.OutcomeNoAnswer: 1}}}},
	}
}

// Every format against its golden file (go test ./internal/report
// -update writes them anew; read the diff before committing).
func TestGolden(t *testing.T) {
	type output struct{ name, format string }
	var outputs []output
	for _, f := range Formats {
		outputs = append(outputs, output{"report", f})
	}
	for _, f := range TransparencyFormats {
		outputs = append(outputs, output{"transparency", f})
	}
	for _, o := range outputs {
		f := o.format
		var b bytes.Buffer
		var err error
		if o.name == "report" {
			err = Write(&b, f, sample())
		} else {
			err = WriteTransparency(&b, f, sampleTransparency())
		}
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", o.name+"."+f)
		if *update {
			if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs from %s (go test -update to rewrite):\n%s", f, golden, b.String())
		}
	}
}

// What the formats must say, whatever their layout: preliminary, the
// definitions, the figures.
func TestContent(t *testing.T) {
	r := sample()
	var md bytes.Buffer
	if err := Write(&md, "md", r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**Preliminary figures**", "**Taken offline: 2 of 6 items.**", "As of 2026-11-21 14:00 UTC", Definitions[1],
		"| chanhost | 2 | 1.0 h | 5.0 h |", "| telegram | 3 | 2 | 66.7% |", "1 within their one-hour deadline", "| telegram | 2 | 1 | 50.0% | 6.0 h |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	var c bytes.Buffer
	if err := Write(&c, "csv", r); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&c).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, rec := range recs {
		if len(rec) != 4 {
			t.Fatalf("a CSV row of %d fields: %v", len(rec), rec)
		}
		found[rec[0]+"/"+rec[1]+"/"+rec[2]] = rec[3]
	}
	for k, v := range map[string]string{"report/rad-1/preliminary": "true", "items/all/taken_offline": "2", "agency/aa-iru/confirmed_offline": "2",
		"still_online/telegram/after_3600s": "0.666667", "resurgence_by_platform/telegram/came_back": "1"} {
		if found[k] != v {
			t.Errorf("CSV %s = %q, want %q", k, found[k], v)
		}
	}
	var j bytes.Buffer
	if err := Write(&j, "json", r); err != nil {
		t.Fatal(err)
	}
	var back takedown.Report
	if err := json.Unmarshal(j.Bytes(), &back); err != nil || back.TakenOffline != 2 || !back.Preliminary || len(back.StillOnline) != 2 {
		t.Errorf("JSON round trip: %+v, %v", back, err)
	}
	if err := Write(&j, "pdf2", r); takedown.ErrorCode(err) != takedown.EINVALID {
		t.Errorf("an unknown format: %v", err)
	}
}

// With a TrueType font the PDF carries names in other scripts.
func TestPDFUnicodeFont(t *testing.T) {
	font := "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
	if _, err := os.Stat(font); err != nil {
		t.Skip("no DejaVu Sans here (apt-get install fonts-dejavu-core)")
	}
	defer func() { pdfFonts = nil }()
	pdfFonts = [][2]string{{font, "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"}}
	r := sample()
	r.Name = "Акция дня"
	var b bytes.Buffer
	if err := Write(&b, "pdf", r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b.Bytes(), []byte("/FontFile2")) || !bytes.Contains(b.Bytes(), []byte("Identity-H")) || !strings.HasPrefix(b.String(), "%PDF-") {
		t.Errorf("the PDF does not embed the font")
	}
}

func TestAt(t *testing.T) {
	pts := []takedown.SurvivalPoint{{Seconds: 0, Survival: 1}, {Seconds: 3600, Survival: 0.5}, {Seconds: 7200, Survival: 0.25}}
	for d, want := range map[time.Duration]float64{0: 1, 59 * time.Minute: 1, time.Hour: 0.5, 90 * time.Minute: 0.5, 10 * time.Hour: 0.25} {
		if got := At(pts, d); got != want {
			t.Errorf("At(%v) = %v, want %v", d, got, want)
		}
	}
}

// The PDF: a document, deterministic, that says what the others say.
func TestPDF(t *testing.T) {
	var b bytes.Buffer
	compressPDF = false
	defer func() { compressPDF = true }()
	if err := Write(&b, "pdf", sample()); err != nil {
		t.Fatal(err)
	}
	pdf := b.String()
	if !strings.HasPrefix(pdf, "%PDF-") || !strings.HasSuffix(strings.TrimSpace(pdf), "%%EOF") {
		t.Fatalf("not a PDF: %.40q ... %q", pdf, pdf[len(pdf)-20:])
	}
	for _, want := range []string{"2 items taken offline", "Preliminary figures: the operation is open", "What the figures count", "Time to removal, per provider",
		"Items taken offline over time", "Still online after referral", "Resurgence: did the network come back?", "chanhost", "Action day"} {
		if !strings.Contains(pdf, want) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
	var again bytes.Buffer
	Write(&again, "pdf", sample())
	if !bytes.Equal(b.Bytes(), again.Bytes()) {
		t.Errorf("the same report made two different PDFs")
	}
}
