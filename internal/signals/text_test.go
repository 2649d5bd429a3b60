package signals

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// Filler text in the style of the simulator's posts: invented, harmless.
const post = `Morning bulletin of the Nimir Gazette. The harbour market opens early today and the orchard road is closed after the storm. ` +
	`Bakery prices rise again this week while the village council meets on Thursday to discuss the new bridge and the school garden. ` +
	`Follow the channel for the evening edition, with the weather, the ferry times and letters from readers across the valley.`

func TestFingerprintRobustness(t *testing.T) {
	t.Parallel()
	base := Fingerprint(post)
	if base == 0 {
		t.Fatal("no fingerprint")
	}
	sentences := strings.SplitAfter(post, ". ")
	reordered := strings.Join([]string{sentences[2], sentences[0], sentences[1]}, " ")
	similar := map[string]string{
		"same text":           post,
		"case and accents":    strings.ToUpper(strings.ReplaceAll(post, "Gazette", "Gazétte")),
		"full-width letters":  strings.Replace(post, "Morning", "Ｍｏｒｎｉｎｇ", 1),
		"punctuation":         strings.NewReplacer(".", "!!", ",", " -").Replace(post),
		"a word changed":      strings.Replace(post, "Thursday", "Friday", 1),
		"a line added":        post + " New channel after the old one was removed: follow us here.",
		"sentences reordered": reordered,
	}
	for name, text := range similar {
		if d := TextDistance(base, Fingerprint(text)); d > 16 {
			t.Errorf("%s: %d bits from the original, want a near fingerprint", name, d)
		}
	}
	// Unrelated texts of the same vocabulary are far apart.
	r := rand.New(rand.NewPCG(5, 6))
	words := Words(post)
	far := 0
	for range 200 {
		r.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
		if TextDistance(base, Fingerprint(strings.Join(words[:40], " "))) > 16 {
			far++
		}
	}
	if far < 190 {
		t.Errorf("only %d of 200 shuffled texts were far from the original", far)
	}
	if Fingerprint("") != 0 || Fingerprint(" ,. !") != 0 {
		t.Error("a text without words has a fingerprint")
	}
	if TextSimilarity(base, base) != 1 || TextSimilarity(base, ^base) != 0 {
		t.Error("similarity bounds")
	}
}

func TestWords(t *testing.T) {
	t.Parallel()
	got := strings.Join(Words("Ｃafé—NEWS, ﬁles & #relay_2"), " ")
	if got != "cafe news files relay 2" {
		t.Errorf("words %q", got)
	}
}

func FuzzFingerprint(f *testing.F) {
	f.Add(post)
	f.Add("")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		a, b := Fingerprint(s), Fingerprint(s)
		if a != b {
			t.Fatal("not deterministic")
		}
		for _, w := range Words(s) {
			if w == "" || strings.ContainsAny(w, " \t\n") {
				t.Fatalf("word %q", w)
			}
		}
	})
}
