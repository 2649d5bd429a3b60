// Package samplegen writes synthetic submissions for demos and benchmarks:
// invented channel and account names, filler text, URLs of every platform
// the recogniser knows and of invented websites. Nothing in it is real.
package samplegen

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Options shape the sample.
type Options struct {
	Rows int // rows in all files together
	// DuplicateShare of the rows report an item already reported by
	// another agency, in another surface form; 0 means 0.2.
	DuplicateShare float64
	Agencies       int   // one writer each; 0 means 2
	Seed           int64 // same seed, same files
}

// Header is the CSV header of every file.
var Header = []string{"url", "kind", "platform", "handle", "title", "notes", "tags", "language", "found_at", "case_ref"}

// recentItems bounds the memory used to pick items to report again.
const recentItems = 1 << 16

type reported struct {
	n      int // the item
	agency int // who reported it first
}

// WriteCSVs writes opts.Rows rows spread over one CSV writer per agency.
// Memory stays constant whatever the row count.
func WriteCSVs(ws []io.Writer, opts Options) error {
	if opts.DuplicateShare == 0 {
		opts.DuplicateShare = 0.2
	}
	if opts.Agencies <= 0 {
		opts.Agencies = 2
	}
	if len(ws) != opts.Agencies {
		return fmt.Errorf("samplegen: %d writers for %d agencies", len(ws), opts.Agencies)
	}
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0x7a6b))
	out := make([]*csv.Writer, len(ws))
	for i, w := range ws {
		out[i] = csv.NewWriter(w)
		if err := out[i].Write(Header); err != nil {
			return err
		}
	}
	var recent [recentItems]reported
	items := 0
	base := time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC)
	rec := make([]string, len(Header))
	for row := 0; row < opts.Rows; row++ {
		var n, agency, form int
		if items > 0 && opts.Agencies > 1 && rng.Float64() < opts.DuplicateShare {
			r := recent[rng.IntN(min(items, recentItems))]
			n, form = r.n, 1+rng.IntN(3)
			agency = (r.agency + 1 + rng.IntN(opts.Agencies-1)) % opts.Agencies
		} else {
			n, agency, form = items, rng.IntN(opts.Agencies), 0
			recent[items%recentItems] = reported{n, agency}
			items++
		}
		fill(rec, n, form, row, rng, base)
		if err := out[agency].Write(rec); err != nil {
			return err
		}
	}
	for _, w := range out {
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
	}
	return nil
}

var syllables = []string{"ka", "lo", "mi", "ren", "sa", "tu", "vel", "zor", "an", "eb", "ir", "ol", "um", "qa", "xi", "dor", "fen", "gal", "hu", "jin"}

// name invents a name for item n: syllables chosen by a hash of n.
func name(n int, parts int) string {
	h := uint64(n)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	var b strings.Builder
	for i := 0; i < parts; i++ {
		b.WriteString(syllables[h%uint64(len(syllables))])
		h /= uint64(len(syllables))
	}
	return b.String()
}

// caseVariant upper-cases some letters, as people retype handles.
func caseVariant(s string, form int) string {
	if form == 0 {
		return s
	}
	b := []byte(s)
	for i := form % 2; i < len(b); i += 3 {
		if 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

var words = strings.Fields("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua enim minim veniam quis nostrud exercitation ullamco laboris nisi aliquip commodo consequat")
var languages = []string{"ar", "en", "fr", "de", "es", "ru", "tr", "ps"}
var tagSets = []string{"media", "media;relay", "amplifier", "archive;mirror", "video", "magazine", ""}

// fill writes item n in surface form into rec. Form 0 is how it was first
// reported; forms 1-3 are other ways of writing the same item.
func fill(rec []string, n, form, row int, rng *rand.Rand, base time.Time) {
	handle := name(n, 3) + "_" + strconv.Itoa(n%1000)
	utm := ""
	if form == 1 || rng.IntN(8) == 0 {
		utm = "?utm_source=share&utm_medium=" + name(row, 1)
	}
	var url, kind string
	switch n % 12 {
	case 0, 1, 2: // Telegram channels are most of what these networks run
		hosts := []string{"https://t.me/", "https://t.me/s/", "https://telegram.me/", "http://www.telegram.dog/"}
		url, kind = hosts[form]+caseVariant(handle, form)+utm, "channel"
	case 3:
		url, kind = []string{"https://t.me/", "https://t.me/s/", "t.me/", "https://telegram.me/"}[form]+caseVariant(handle, form)+"/"+strconv.Itoa(100+n%5000), "post"
	case 4:
		hash := "AAAA" + name(n, 4) + strconv.Itoa(n)
		url, kind = []string{"https://t.me/+", "https://t.me/joinchat/", "https://telegram.me/joinchat/", "t.me/+"}[form]+hash, "invite"
	case 5:
		h := name(n, 2) + strconv.Itoa(n%100000)
		if len(h) > 15 {
			h = h[:15]
		}
		url, kind = []string{"https://x.com/", "https://twitter.com/", "https://mobile.twitter.com/", "x.com/"}[form]+caseVariant(h, form)+utm, "account"
	case 6:
		url, kind = fmt.Sprintf("%s%s/status/%d%s", []string{"https://x.com/", "https://twitter.com/", "https://mobile.twitter.com/", "https://x.com/"}[form], name(n, 2), 1860000000000000000+n, []string{"", "?s=20", "?s=20&t=abc", ""}[form]), "post"
	case 7:
		url, kind = []string{"https://www.facebook.com/", "https://m.facebook.com/", "https://facebook.com/", "https://web.facebook.com/"}[form]+caseVariant(name(n, 2)+"."+name(n+1, 2)+strconv.Itoa(n), form)+utm, "account"
	case 8:
		url, kind = []string{"https://www.instagram.com/", "https://instagram.com/", "https://instagr.am/", "https://www.instagram.com/"}[form]+caseVariant(name(n, 3)+"."+strconv.Itoa(n), form)+"/"+[]string{"", "?igshid=abc", "", "?igsh=x"}[form], "account"
	case 9:
		id := fmt.Sprintf("%011d", n)[:11]
		id = "v" + id[1:]
		url, kind = []string{"https://www.youtube.com/watch?v=", "https://youtu.be/", "https://m.youtube.com/watch?feature=share&v=", "https://www.youtube.com/shorts/"}[form]+id, "post"
	case 10:
		url, kind = []string{"https://www.tiktok.com/@", "https://tiktok.com/@", "https://m.tiktok.com/@", "https://www.tiktok.com/@"}[form]+caseVariant(handle, form)+"/video/"+strconv.Itoa(7300000000000000000+n)+[]string{"", "?is_from_webapp=1", "", "?_r=1"}[form], "post"
	default: // websites and files on invented domains
		host := name(n/50, 2) + "-" + strconv.Itoa(n%97) + ".example"
		if n%2 == 0 {
			url, kind = []string{"https://", "http://", "https://www.", "HTTPS://"}[form]+caseVariant(host, form%2*form)+"/releases/"+name(n, 2)+"-"+strconv.Itoa(n)+".pdf", "file"
		} else {
			url, kind = []string{"https://", "http://www.", "https://", "https://"}[form]+host+"/2026/11/statement-"+strconv.Itoa(n)+".html"+[]string{"", "#top", "?utm_campaign=x", "?fbclid=abc"}[form], "website"
		}
	}
	if rng.IntN(4) == 0 {
		kind = "" // not every agency fills every column
	}
	rec[0], rec[1], rec[2], rec[3] = url, kind, "", ""
	rec[4] = ""
	if form == 0 && rng.IntN(2) == 0 {
		rec[4] = strings.ToUpper(words[n%len(words)][:1]) + words[n%len(words)][1:] + " " + words[(n/7)%len(words)]
	}
	nw := 3 + rng.IntN(8)
	notes := make([]string, nw)
	for i := range notes {
		notes[i] = words[rng.IntN(len(words))]
	}
	if rng.IntN(10) == 0 {
		notes[0] += "," // a comma makes the CSV writer quote the field
	}
	rec[5] = strings.Join(notes, " ")
	rec[6] = tagSets[rng.IntN(len(tagSets))]
	rec[7] = languages[rng.IntN(len(languages))]
	rec[8] = base.Add(time.Duration(row%(5*24*60)) * time.Minute).Format("2006-01-02 15:04")
	rec[9] = fmt.Sprintf("REF-%d-%d", form, row)
}
