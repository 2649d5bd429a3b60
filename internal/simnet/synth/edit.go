package synth

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EditText makes the small edits of a repost: one or two (one for texts
// under ten words) of swapping two adjacent words, dropping a word,
// inserting a word taken from the text, changing punctuation, swapping two
// adjacent sentences, changing a number. Links (words with "://" or
// "www." in them) are never altered, and line breaks are kept.
//
// The result differs from text and, for texts of ten or more words, keeps
// a Jaccard similarity of at least 0.5 between the sets of word bigrams
// (words lower-cased, punctuation at their ends ignored), so the repost is
// still recognisably the same text. Ops are "kind: detail" with kind one of
// swap, drop, insert, punctuation, reorder, number. A text without words
// comes back unchanged, with no ops.
func EditText(r *rand.Rand, text string) (string, []string) {
	lead, ws := splitWords(text)
	n := 0
	for _, w := range ws {
		if w.editable() {
			n++
		}
	}
	if n == 0 {
		return text, nil
	}
	for range 32 {
		k := 1
		if n >= 10 {
			k = 1 + r.IntN(2)
		}
		cur := ws
		var ops []string
		for applied, tries := 0, 0; applied < k && tries < 16; tries++ {
			out, op, ok := textEdits[r.IntN(len(textEdits))](r, cur)
			if ok {
				cur, ops = out, append(ops, op)
				applied++
			}
		}
		s := joinWords(lead, cur)
		if s != text && (n < 10 || similarity(text, s) >= 0.5) {
			return s, ops
		}
	}
	// A text none of the edits fits, such as one bare word: end it.
	i := len(ws) - 1
	for !ws[i].editable() {
		i--
	}
	cur := append([]word(nil), ws...)
	cur[i].text += "."
	return joinWords(lead, cur), []string{fmt.Sprintf("punctuation: add %q at %d", ".", i)}
}

// word is a whitespace-separated token and the whitespace after it.
type word struct {
	text, sep string
}

func isURL(s string) bool {
	return strings.Contains(s, "://") || strings.Contains(strings.ToLower(s), "www.")
}

// parts splits a token into leading punctuation, the word, and trailing
// punctuation.
func (w word) parts() (pre, core, post string) {
	isWord := func(c rune) bool { return unicode.IsLetter(c) || unicode.IsDigit(c) || unicode.IsMark(c) }
	i := strings.IndexFunc(w.text, isWord)
	if i < 0 {
		return w.text, "", ""
	}
	j := strings.LastIndexFunc(w.text, isWord)
	_, size := utf8.DecodeRuneInString(w.text[j:])
	return w.text[:i], w.text[i : j+size], w.text[j+size:]
}

func (w word) editable() bool {
	_, core, _ := w.parts()
	return core != "" && !isURL(w.text)
}

func splitWords(text string) (string, []word) {
	i := strings.IndexFunc(text, func(c rune) bool { return !unicode.IsSpace(c) })
	if i < 0 {
		return text, nil
	}
	lead, rest := text[:i], text[i:]
	var ws []word
	for rest != "" {
		end := strings.IndexFunc(rest, unicode.IsSpace)
		if end < 0 {
			ws = append(ws, word{text: rest})
			break
		}
		next := strings.IndexFunc(rest[end:], func(c rune) bool { return !unicode.IsSpace(c) })
		if next < 0 {
			ws = append(ws, word{text: rest[:end], sep: rest[end:]})
			break
		}
		ws = append(ws, word{text: rest[:end], sep: rest[end : end+next]})
		rest = rest[end+next:]
	}
	return lead, ws
}

func joinWords(lead string, ws []word) string {
	var b strings.Builder
	b.WriteString(lead)
	for _, w := range ws {
		b.WriteString(w.text)
		b.WriteString(w.sep)
	}
	return b.String()
}

// A textEdit returns ws edited and what it did, or false if it does not
// apply. It never changes ws itself.
type textEdit func(r *rand.Rand, ws []word) ([]word, string, bool)

var textEdits = []textEdit{swapWords, dropWord, insertWord, punctuation, reorderSentences, changeNumber}

func clone(ws []word) []word { return append([]word(nil), ws...) }

func swapWords(r *rand.Rand, ws []word) ([]word, string, bool) {
	var at []int
	for i := 0; i+1 < len(ws); i++ {
		_, a, _ := ws[i].parts()
		_, b, _ := ws[i+1].parts()
		if ws[i].editable() && ws[i+1].editable() && !strings.EqualFold(a, b) {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return nil, "", false
	}
	i := at[r.IntN(len(at))]
	out := clone(ws)
	p1, c1, s1 := ws[i].parts()
	p2, c2, s2 := ws[i+1].parts()
	out[i].text, out[i+1].text = p1+c2+s1, p2+c1+s2
	return out, fmt.Sprintf("swap: %q <-> %q at %d", c1, c2, i), true
}

func dropWord(r *rand.Rand, ws []word) ([]word, string, bool) {
	var at []int
	for i := 1; i < len(ws); i++ {
		// One of the two separators around the word goes with it: never
		// a line break.
		lines := strings.Contains(ws[i-1].sep, "\n") && strings.Contains(ws[i].sep, "\n")
		if pre, _, post := ws[i].parts(); ws[i].editable() && pre == "" && post == "" && !lines {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return nil, "", false
	}
	i := at[r.IntN(len(at))]
	out := clone(ws[:i])
	if strings.Contains(ws[i].sep, "\n") || i == len(ws)-1 && !strings.Contains(ws[i-1].sep, "\n") {
		out[i-1].sep = ws[i].sep
	}
	out = append(out, ws[i+1:]...)
	return out, fmt.Sprintf("drop: %q at %d", ws[i].text, i), true
}

// sentenceStart reports whether ws[i] begins a sentence.
func sentenceStart(ws []word, i int) bool {
	if i == 0 {
		return true
	}
	_, _, post := ws[i-1].parts()
	return strings.ContainsAny(post, ".!?…؟")
}

func insertWord(r *rand.Rand, ws []word) ([]word, string, bool) {
	var src, dst []int
	for i, w := range ws {
		if w.editable() {
			src = append(src, i)
			if i+1 < len(ws) && w.sep == " " {
				dst = append(dst, i+1)
			}
		}
	}
	if len(dst) == 0 {
		return nil, "", false
	}
	s := src[r.IntN(len(src))]
	_, core, _ := ws[s].parts()
	if sentenceStart(ws, s) {
		core = strings.ToLower(core)
	}
	j := dst[r.IntN(len(dst))]
	out := make([]word, 0, len(ws)+1)
	out = append(out, ws[:j]...)
	out = append(out, word{text: core, sep: " "})
	out = append(out, ws[j:]...)
	return out, fmt.Sprintf("insert: %q at %d", core, j), true
}

func punctuation(r *rand.Rand, ws []word) ([]word, string, bool) {
	type edit struct {
		i        int
		from, to string
	}
	var edits []edit
	last := -1
	for i, w := range ws {
		if !w.editable() {
			continue
		}
		last = i
		_, core, post := w.parts()
		comma := ","
		if c, _ := utf8.DecodeRuneInString(core); unicode.Is(unicode.Arabic, c) {
			comma = "،"
		}
		switch {
		case strings.HasSuffix(post, "..."):
		case strings.HasSuffix(post, "."):
			edits = append(edits, edit{i, ".", "!"})
		case strings.HasSuffix(post, "!"):
			edits = append(edits, edit{i, "!", "."})
		case post == "," || post == "،":
			edits = append(edits, edit{i, post, ""})
		case post == "" && i+1 < len(ws) && w.sep == " " && ws[i+1].editable():
			edits = append(edits, edit{i, "", comma})
		}
	}
	if last >= 0 {
		if _, _, post := ws[last].parts(); post == "" {
			edits = append(edits, edit{last, "", "."})
		}
	}
	if len(edits) == 0 {
		return nil, "", false
	}
	e := edits[r.IntN(len(edits))]
	out := clone(ws)
	out[e.i].text = strings.TrimSuffix(ws[e.i].text, e.from) + e.to
	return out, fmt.Sprintf("punctuation: %q -> %q at %d", e.from, e.to, e.i), true
}

// reorderSentences swaps two adjacent sentences. The whitespace stays
// where it was, so paragraph breaks do not move with the sentences.
func reorderSentences(r *rand.Rand, ws []word) ([]word, string, bool) {
	var starts []int // of complete sentences, and one past the last
	start := 0
	for i := range ws {
		if sentenceStart(ws, i+1) {
			starts = append(starts, start)
			start = i + 1
		}
	}
	starts = append(starts, start)
	if len(starts) < 3 {
		return nil, "", false
	}
	k := r.IntN(len(starts) - 2)
	a, b, end := starts[k], starts[k+1], starts[k+2]
	out := clone(ws)
	texts := make([]string, 0, end-a)
	for _, w := range ws[b:end] {
		texts = append(texts, w.text)
	}
	for _, w := range ws[a:b] {
		texts = append(texts, w.text)
	}
	for i, t := range texts {
		out[a+i].text = t
	}
	return out, fmt.Sprintf("reorder: sentences at %d and %d", a, b), true
}

func changeNumber(r *rand.Rand, ws []word) ([]word, string, bool) {
	var at []int
	for i, w := range ws {
		if _, core, _ := w.parts(); w.editable() && len(core) <= 9 && strings.Trim(core, "0123456789") == "" {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return nil, "", false
	}
	i := at[r.IntN(len(at))]
	pre, core, post := ws[i].parts()
	n, _ := strconv.Atoi(core)
	d := 1 + r.IntN(9)
	if n >= d && r.IntN(2) == 0 {
		d = -d
	}
	next := strconv.Itoa(n + d)
	if core[0] == '0' {
		next = fmt.Sprintf("%0*d", len(core), n+d)
	}
	out := clone(ws)
	out[i].text = pre + next + post
	return out, fmt.Sprintf("number: %q -> %q at %d", core, next, i), true
}

// similarity is the Jaccard similarity of the word-bigram sets of a and b
// (single words when a text has fewer than two).
func similarity(a, b string) float64 {
	sa, sb := shingles(a), shingles(b)
	if len(sa) == 0 && len(sb) == 0 {
		return 1
	}
	common := 0
	for s := range sa {
		if sb[s] {
			common++
		}
	}
	return float64(common) / float64(len(sa)+len(sb)-common)
}

func shingles(s string) map[string]bool {
	var words []string
	for _, f := range strings.Fields(s) {
		f = strings.TrimFunc(f, func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsDigit(c) })
		if f != "" {
			words = append(words, strings.ToLower(f))
		}
	}
	set := make(map[string]bool)
	if len(words) == 1 {
		set[words[0]] = true
	}
	for i := 0; i+1 < len(words); i++ {
		set[words[i]+" "+words[i+1]] = true
	}
	return set
}
