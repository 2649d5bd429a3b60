package simnet

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// A resurgence set is the adversary's work as files that a matcher reads
// without takedown's database (the format of `takedown resurgence
// match`): the removed channels and accounts, the candidates (their
// successors among the network's other live channels and accounts), and
// the ground truth of who succeeds whom, with the mutations made.

// Profile is an item as a matcher reads it (one JSON line).
type Profile struct {
	ID          string   `json:"id"`
	Platform    string   `json:"platform,omitempty"`
	Handle      string   `json:"handle,omitempty"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Posts       []string `json:"posts,omitempty"`
	Links       []string `json:"links,omitempty"`
	// Avatar is a PNG file, relative to the JSON Lines file.
	Avatar string `json:"avatar,omitempty"`
}

// ResurgenceTruth is what a matcher should find.
type ResurgenceTruth struct {
	Removed    int          `json:"removed"`
	Candidates int          `json:"candidates"`
	Pairs      []Succession `json:"pairs"`
	Scenario   string       `json:"scenario"`
	Seed       uint64       `json:"seed"`
	At         time.Time    `json:"at"`
}

var linkPattern = regexp.MustCompile(`https?://[^\s"'<>]+`)

// RemoveForResurgence removes share of the network's channels and
// accounts, as providers would (seeded, so that the same world gives the
// same set), and returns them; the adversary schedules their successors.
func (w *World) RemoveForResurgence(share float64, at time.Time) []*Entity {
	r := rand.New(rand.NewPCG(w.Seed, 0x5e5))
	var removed []*Entity
	for _, e := range w.Entities {
		if e.IsContainer() && e.Predecessor == nil && r.Float64() < share {
			w.apply(Decision{Entity: e, Outcome: OutcomeRemoved, DecidedAt: at})
			removed = append(removed, e)
		}
	}
	return removed
}

// WriteResurgenceSet writes removed.jsonl, candidates.jsonl, avatars/
// and truth.json to dir, as of now: the removed entities, and as
// candidates every live channel and account (successors and the
// network's others).
func (w *World) WriteResurgenceSet(dir string, removed []*Entity, now time.Time) (*ResurgenceTruth, error) {
	if err := os.MkdirAll(filepath.Join(dir, "avatars"), 0o750); err != nil {
		return nil, err
	}
	truth := &ResurgenceTruth{Scenario: w.Scenario.Name, Seed: w.Seed, At: now, Pairs: w.Truth(now, false)}
	write := func(name string, es []*Entity) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		bw := bufio.NewWriter(f)
		enc := json.NewEncoder(bw)
		for _, e := range es {
			p, err := w.profile(dir, e, now)
			if err != nil {
				f.Close()
				return err
			}
			if err := enc.Encode(p); err != nil {
				f.Close()
				return err
			}
		}
		if err := bw.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	var candidates []*Entity
	for _, e := range w.All() {
		if e.IsContainer() && w.Status(e, now, w.Scenario.Region) == StatusLive {
			candidates = append(candidates, e)
		}
	}
	truth.Removed, truth.Candidates = len(removed), len(candidates)
	if err := write("removed.jsonl", removed); err != nil {
		return nil, err
	}
	if err := write("candidates.jsonl", candidates); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(truth, "", "  ")
	if err != nil {
		return nil, err
	}
	return truth, os.WriteFile(filepath.Join(dir, "truth.json"), b, 0o640)
}

// profile is an entity as a matcher sees it: what its page shows.
func (w *World) profile(dir string, e *Entity, now time.Time) (*Profile, error) {
	p := &Profile{ID: strconv.Itoa(e.ID), Platform: e.Platform, Handle: e.Handle, Title: e.Title, Description: e.Description}
	at := now
	if e.Predecessor == nil {
		// A removed entity as it was when it was last seen.
		at = e.Created.Add(time.Hour)
		if at.Before(w.Scenario.Start) {
			at = w.Scenario.Start
		}
	}
	seen := map[string]bool{}
	for _, m := range w.posts(e, at) {
		p.Posts = append(p.Posts, m.text)
		for _, l := range linkPattern.FindAllString(m.text, -1) {
			if !seen[l] {
				seen[l] = true
				p.Links = append(p.Links, l)
			}
		}
	}
	name := filepath.Join("avatars", p.ID+".png")
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	if err := png.Encode(f, w.avatarImage(e)); err != nil {
		f.Close()
		return nil, fmt.Errorf("avatar of %d: %w", e.ID, err)
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	p.Avatar = name
	return p, nil
}
