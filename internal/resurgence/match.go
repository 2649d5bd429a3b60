// Package resurgence finds a network's channels when they come back: it
// scores candidate items against removed ones on the signals a
// re-created channel keeps (its avatar, its texts, its links, a handle
// that reads like the old one) and lists the pairs above a threshold,
// with the signals that made them, for an analyst to judge.
package resurgence

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/pdq"
	"github.com/takedown-project/takedown/internal/signals"
)

// Profile is an item as the matcher reads it: one JSON object per line,
// every field but id optional; avatar is an image file relative to the
// file the line is in.
type Profile struct {
	ID          string   `json:"id"`
	Platform    string   `json:"platform,omitempty"`
	Handle      string   `json:"handle,omitempty"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Posts       []string `json:"posts,omitempty"`
	Links       []string `json:"links,omitempty"`
	Avatar      string   `json:"avatar,omitempty"`
}

// Item is a profile with its signals computed.
type Item struct {
	Profile
	avatar   pdq.Hash
	hasPDQ   bool            // an avatar of quality MinQuality or more
	title    map[string]bool // the title's words, as a reader sees them
	desc     signals.TextFingerprint
	posts    []uint64 // the posts' word pairs, hashed, sorted, once each
	links    map[string]bool
	handle   string          // the handle's key, as others' posts name it
	mentions map[string]bool // the keys of the handles its posts name
}

// Prepare computes an item's signals; dir is where its avatar path is
// relative to.
func Prepare(p Profile, dir string) (*Item, error) {
	var avatar *pdq.Result
	if p.Avatar != "" {
		path := p.Avatar
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("item %s: avatar: %w", p.ID, err)
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("item %s: avatar %s: %w", p.ID, p.Avatar, err)
		}
		r, err := pdq.Compute(img)
		if err != nil {
			return nil, fmt.Errorf("item %s: avatar: %w", p.ID, err)
		}
		avatar = &r
	}
	return prepare(p, avatar), nil
}

// FromSignals is a stored item's signals as the matcher reads them; its
// ID is the item's.
func FromSignals(r *takedown.SignalRecord) *Item {
	p := Profile{ID: strconv.FormatInt(r.ItemID, 10), Platform: string(r.Platform), Handle: r.Handle, Title: r.Title,
		Description: r.Description, Posts: r.Posts, Links: r.Links}
	var avatar *pdq.Result
	if h, err := pdq.Parse(r.AvatarPDQ); err == nil && r.AvatarPDQ != "" {
		avatar = &pdq.Result{Hash: h, Quality: r.AvatarQuality}
	}
	return prepare(p, avatar)
}

func prepare(p Profile, avatar *pdq.Result) *Item {
	it := &Item{Profile: p, links: map[string]bool{}}
	if avatar != nil {
		it.avatar, it.hasPDQ = avatar.Hash, avatar.Quality >= pdq.MinQuality
	}
	it.title = titleWords(p.Title)
	it.desc = signals.Fingerprint(p.Description)
	it.posts = wordPairs(p.Posts)
	for _, l := range p.Links {
		it.links[normalizeLink(l)] = true
	}
	if p.Handle != "" {
		it.handle = signals.HandleKey(p.Handle)
	}
	it.mentions = map[string]bool{}
	for _, t := range p.Posts {
		for _, m := range mentioned.FindAllStringSubmatch(t, -1) {
			it.mentions[signals.HandleKey(m[1]+m[2])] = true
		}
	}
	return it
}

// mentioned finds the handles a post names: "@name", or a channel's link
// ("t.me/name", "x.com/name", "youtube.com/@name").
var mentioned = regexp.MustCompile(`(?:^|[^\w@/.])@([A-Za-z][A-Za-z0-9_]{3,31})\b|(?:t\.me|telegram\.me|x\.com|twitter\.com|youtube\.com/@)/?([A-Za-z][A-Za-z0-9_]{3,31})\b`)

// wordPairs are the hashed pairs of neighbouring words of texts, sorted
// and each once.
func wordPairs(texts []string) []uint64 {
	var out []uint64
	for _, t := range texts {
		words := signals.Words(t)
		for i := 0; i+1 < len(words); i++ {
			h := fnv.New64a()
			h.Write([]byte(words[i]))
			h.Write([]byte{' '})
			h.Write([]byte(words[i+1]))
			out = append(out, h.Sum64())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sharedCount counts the values two sorted lists share.
func sharedCount(a, b []uint64) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			n++
			i++
			j++
		}
	}
	return n
}

// titleWords are a title's words as a reader sees them: confusable
// letters, other scripts, case and decoration (★, |, "2") aside.
func titleWords(t string) map[string]bool {
	out := map[string]bool{}
	for _, w := range signals.Words(t) {
		if k := signals.HandleKey(w); len([]rune(k)) > 1 {
			out[k] = true
		}
	}
	return out
}

func jaccard(a, b map[string]bool) float64 {
	inter := 0
	for w := range a {
		if b[w] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// normalizeLink compares links without scheme, "www." and a trailing
// slash.
func normalizeLink(l string) string {
	l = strings.ToLower(strings.TrimSpace(l))
	for _, p := range []string{"https://", "http://", "www."} {
		l = strings.TrimPrefix(l, p)
	}
	return strings.TrimSuffix(l, "/")
}

// Match is a candidate scored against a removed item.
type Match struct {
	Candidate   string             `json:"candidate"`
	Predecessor string             `json:"predecessor"`
	Score       float64            `json:"score"`
	Signals     map[string]float64 `json:"signals"`
}

// DefaultThreshold is the score from which a pair is a match.
const DefaultThreshold = 0.7

// Score says how likely candidate c re-creates removed item r (0 to 1)
// and which signals said so. Each signal is evidence on its own; they
// combine as independent evidence does (1 - the product of what each
// leaves unexplained), so that two middling signals together are strong
// and one perfect signal is enough only where it is rarely wrong.
func Score(r, c *Item) (float64, map[string]float64) {
	sig := map[string]float64{}
	// Two kinds of evidence: what makes a channel look like the removed
	// one (avatar, handle, title, links), which an outlet's other
	// channels share and which alone never makes a match, and what it
	// says (its posts, its description), which a successor repeats.
	looks, says := 1.0, 1.0
	content := map[string]bool{"posts": true, "description": true, "mention": true}
	add := func(name string, value, weight float64) {
		if value <= 0 {
			return
		}
		sig[name] = round(value)
		if content[name] {
			says *= 1 - weight*value
		} else {
			looks *= 1 - weight*value
		}
	}
	if r.hasPDQ && c.hasPDQ {
		if d := pdq.Distance(r.avatar, c.avatar); d <= pdq.DefaultRadius {
			// An outlet's channels share its logo: the avatar says
			// "this network" more than "this channel".
			add("avatar", 1-float64(d)/64, 0.35)
		}
	}
	// An outlet's channels share words of their names and titles: a
	// handle or title counts by how much closer than that it is.
	if r.Handle != "" && c.Handle != "" {
		if s := signals.HandleSimilarity(r.Handle, c.Handle); s > 0.6 {
			add("handle", s, 0.7*(s-0.6)/0.4/s)
		}
	}
	if len(r.title) > 0 && len(c.title) > 0 {
		if j := jaccard(r.title, c.title); j > 0.5 {
			add("title", j, 0.6*(j-0.5)/0.5/j)
		}
	}
	if r.desc != 0 && c.desc != 0 {
		if s := signals.TextSimilarity(r.desc, c.desc); s >= 0.6 {
			add("description", s, 0.8)
		}
	}
	if len(r.posts) > 0 && len(c.posts) > 0 {
		// The share of the candidate's word pairs found in the removed
		// item's posts: a successor reposts them, edited a little (a
		// word changed breaks two pairs, not the post); an outlet's
		// other channels write other posts.
		shared := sharedCount(r.posts, c.posts)
		if share := float64(shared) / float64(len(c.posts)); share > chancePairs {
			add("posts", share, 0.85*(share-chancePairs)/(1-chancePairs)/share)
		}
	}
	if len(r.links) > 0 && len(c.links) > 0 {
		shared := 0
		for l := range c.links {
			if r.links[l] {
				shared++
			}
		}
		if shared > 0 {
			// Channels of one outlet share links: weak on its own.
			add("links", float64(shared)/float64(min(len(r.links), len(c.links))), 0.25)
		}
	}
	// A channel that names the removed one ("formerly @name", "our old
	// channel @name was banned") says who it is; but an outlet's siblings
	// name each other too (they announce each new channel), so with the
	// looks alone it stays under the threshold: weak evidence that adds
	// to what the posts say.
	if r.handle != "" && c.mentions[r.handle] {
		add("mention", 1, 0.2)
	}
	look := min(1-looks, maxLook)
	return round(1 - (1-look)*says), sig
}

// chancePairs is the share of word pairs two unrelated channels of one
// language share by chance (the common phrases of a language): a posts
// share counts by how much it exceeds it.
const chancePairs = 0.2

// maxLook is the most that looking like a removed channel can score:
// under the threshold, so that a match needs what the channel says too.
const maxLook = 0.6

func round(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }

// MatchAll scores every candidate against every removed item and returns
// the pairs at or above threshold, best first per candidate (candidates
// in input order). A candidate is never its own predecessor.
func MatchAll(removed, candidates []*Item, threshold float64) []Match {
	var out []Match
	for _, c := range candidates {
		var mine []Match
		for _, r := range removed {
			if r.ID == c.ID {
				continue
			}
			if s, sig := Score(r, c); s >= threshold {
				mine = append(mine, Match{Candidate: c.ID, Predecessor: r.ID, Score: s, Signals: sig})
			}
		}
		slices.SortStableFunc(mine, func(a, b Match) int { return cmp.Compare(b.Score, a.Score) })
		out = append(out, mine...)
	}
	return out
}

// ReadProfiles reads a JSON Lines file of profiles and prepares them;
// a bad line is an error naming it.
func ReadProfiles(path string) ([]*Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readProfiles(f, filepath.Dir(path), path)
}

func readProfiles(r io.Reader, dir, name string) ([]*Item, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var out []*Item
	ids := map[string]int{}
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var p Profile
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return nil, takedown.Errorf(takedown.EINVALID, "%s line %d: %v", name, line, err)
		}
		if p.ID == "" {
			return nil, takedown.Errorf(takedown.EINVALID, "%s line %d: an item needs its id", name, line)
		}
		if prev, ok := ids[p.ID]; ok {
			return nil, takedown.Errorf(takedown.EINVALID, "%s line %d: id %q again (line %d)", name, line, p.ID, prev)
		}
		ids[p.ID] = line
		it, err := Prepare(p, dir)
		if err != nil {
			return nil, takedown.Errorf(takedown.EINVALID, "%s line %d: %v", name, line, err)
		}
		out = append(out, it)
	}
	if err := sc.Err(); err != nil {
		return nil, takedown.Errorf(takedown.EINVALID, "%s: %v", name, err)
	}
	return out, nil
}

// Best keeps, of a match list, each candidate's best predecessors: a
// re-created channel replaces one removed channel, and the others it
// resembles are its outlet's siblings. Pairs within margin of the best
// stay, for the analyst to decide.
func Best(ms []Match, margin float64) []Match {
	best := map[string]float64{}
	for _, m := range ms {
		best[m.Candidate] = max(best[m.Candidate], m.Score)
	}
	var out []Match
	for _, m := range ms {
		if m.Score >= best[m.Candidate]-margin {
			out = append(out, m)
		}
	}
	return out
}
