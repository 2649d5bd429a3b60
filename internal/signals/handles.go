package signals

import (
	"strings"
	"unicode"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
)

// Handles: a network re-creates a removed channel under a name its
// followers will find: the same name with a digit added, "_official" or
// "news2" appended, letters swapped, a Latin letter replaced by a
// Cyrillic one that looks the same, or the name spelt in another script.
// HandleSimilarity sees through these.

// HandleKey is a handle as it looks to a reader: lower case, without the
// leading @ and separators, every character replaced by its Unicode
// confusable skeleton (UTS #39: Cyrillic "а" and Latin "a" alike), and
// Cyrillic and Greek spelling transliterated to Latin letters.
func HandleKey(h string) string {
	h = strings.TrimPrefix(strings.TrimSpace(h), "@")
	h = norm.NFKC.String(strings.ToLower(h))
	var b strings.Builder
	for _, r := range h {
		if r == '_' || r == '-' || r == '.' || unicode.IsSpace(r) {
			continue
		}
		b.WriteString(transliterate(r))
	}
	return strings.ToLower(confusables.Skeleton(b.String()))
}

// decorations are the words a re-created handle adds to the old one.
var decorations = []string{"official", "officiel", "offical", "backup", "reserve", "channel", "chanel", "news", "media", "tv", "new", "real", "the", "main", "info", "live", "daily", "archive"}

// HandleCore is a handle's key without the decorations a re-creation
// adds: trailing and leading digits and the usual words ("official",
// "news", "backup", "tv", ...) at either end.
func HandleCore(h string) string {
	k := HandleKey(h)
	for changed := true; changed && len(k) > 3; {
		changed = false
		if t := strings.TrimRight(k, "0123456789"); t != k && len(t) >= 3 {
			k, changed = t, true
		}
		if t := strings.TrimLeft(k, "0123456789"); t != k && len(t) >= 3 {
			k, changed = t, true
		}
		for _, d := range decorations {
			if t, ok := strings.CutSuffix(k, d); ok && len(t) >= 3 {
				k, changed = t, true
			}
			if t, ok := strings.CutPrefix(k, d); ok && len(t) >= 3 {
				k, changed = t, true
			}
		}
	}
	return k
}

// HandleSimilarity says how likely b is a re-creation of a, from 0 to 1:
// 1 for the same handle to a reader's eye (case, separators, confusable
// letters, script), 0.9 for the same core with decorations added or
// removed, and otherwise the share of the core that an edit distance
// (with swapped letters as one edit) leaves the same.
func HandleSimilarity(a, b string) float64 {
	ka, kb := HandleKey(a), HandleKey(b)
	if ka == "" || kb == "" {
		return 0
	}
	if ka == kb {
		return 1
	}
	ca, cb := HandleCore(a), HandleCore(b)
	if ca == cb {
		return 0.9
	}
	ra, rb := []rune(ca), []rune(cb)
	n := max(len(ra), len(rb))
	s := 1 - float64(editDistance(ra, rb))/float64(n)
	return max(0, 0.85*s)
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours, each one edit.
func editDistance(a, b []rune) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// transliterate spells a Cyrillic or Greek letter in Latin letters
// (the common romanisations, simplified); other runes stay.
func transliterate(r rune) string {
	if s, ok := latin[r]; ok {
		return s
	}
	return string(r)
}

var latin = map[rune]string{
	// Cyrillic
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh", 'з': "z", 'и': "i", 'й': "i",
	'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f",
	'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu", 'я': "ya",
	'і': "i", 'ї': "i", 'є': "e", 'ґ': "g",
	// Greek
	'α': "a", 'β': "b", 'γ': "g", 'δ': "d", 'ε': "e", 'ζ': "z", 'η': "i", 'θ': "th", 'ι': "i", 'κ': "k", 'λ': "l",
	'μ': "m", 'ν': "n", 'ξ': "x", 'ο': "o", 'π': "p", 'ρ': "r", 'σ': "s", 'ς': "s", 'τ': "t", 'υ': "y", 'φ': "f",
	'χ': "ch", 'ψ': "ps", 'ω': "o", 'ά': "a", 'έ': "e", 'ή': "i", 'ί': "i", 'ό': "o", 'ύ': "y", 'ώ': "o",
}
