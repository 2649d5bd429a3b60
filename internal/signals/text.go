// Package signals computes what recognises a network's channels when
// they come back under new names: fingerprints of their texts, and (with
// internal/pdq) of their images.
package signals

import (
	"hash/fnv"
	"math/bits"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// TextFingerprint is a 64-bit SimHash of a text's word shingles: texts
// that share most of their shingles (small edits, words added or dropped,
// paragraphs reordered) have fingerprints a few bits apart; unrelated
// texts differ in about half the bits.
type TextFingerprint uint64

// TextDistance is the Hamming distance between two fingerprints (0-64).
func TextDistance(a, b TextFingerprint) int { return bits.OnesCount64(uint64(a ^ b)) }

// TextSimilarity is 1 for the same fingerprint and about 0 for unrelated
// texts (half the bits apart, as random fingerprints are).
func TextSimilarity(a, b TextFingerprint) float64 {
	return max(0, 1-float64(TextDistance(a, b))/32)
}

// shingle is the number of words a shingle spans.
const shingle = 3

// Words splits a text into its words after Unicode normalisation
// (compatibility forms folded, so that full-width letters and ligatures
// count as the plain ones), case folding and the removal of marks
// (accents) and punctuation: the form in which reposted texts are
// compared.
func Words(text string) []string {
	t := norm.NFKD.String(text)
	var b strings.Builder
	b.Grow(len(t))
	for _, r := range t {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining accent: dropped
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(' ')
		}
	}
	return strings.Fields(b.String())
}

// Fingerprint is the SimHash of a text's shingles of three words (of its
// words, for a text shorter than that); 0 for a text without words.
func Fingerprint(text string) TextFingerprint {
	words := Words(text)
	if len(words) == 0 {
		return 0
	}
	var weights [64]int
	add := func(s string) {
		h := fnv.New64a()
		h.Write([]byte(s))
		v := h.Sum64()
		// FNV's high bits mix poorly for short inputs: spread them.
		v ^= v >> 33
		v *= 0xff51afd7ed558ccd
		v ^= v >> 33
		for i := range 64 {
			if v&(1<<i) != 0 {
				weights[i]++
			} else {
				weights[i]--
			}
		}
	}
	if len(words) < shingle {
		for _, w := range words {
			add(w)
		}
	} else {
		for i := 0; i+shingle <= len(words); i++ {
			add(strings.Join(words[i:i+shingle], " "))
		}
	}
	var fp uint64
	for i, w := range weights {
		if w > 0 {
			fp |= 1 << i
		}
	}
	return TextFingerprint(fp)
}
