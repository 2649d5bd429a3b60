package synth

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Transliterate rewrites the Latin letters of s letter by letter (with a
// few digraphs such as sh, ch, kh) into script: Cyrillic or Arabic, the way
// an outlet spells its Latin name for another audience ("Velmora" becomes
// "Велмора" or "فيلمورا"). Accented Latin letters are first reduced to their
// base letters. With Latin as script it goes the other way, romanising
// Cyrillic, Greek and Arabic-script letters. Everything else is kept, so
// the result is valid UTF-8 whatever s is (invalid bytes become U+FFFD).
func Transliterate(s, script string) string {
	switch script {
	case Cyrillic:
		return fromLatin(s, toCyrillic, true)
	case Arabic:
		return fromLatin(s, toArabic, false)
	case Latin:
		var b strings.Builder
		for _, c := range s {
			lc := unicode.ToLower(c)
			t, ok := cyrillicFold[lc]
			if !ok {
				t, ok = greekFold[lc]
			}
			if !ok {
				t, ok = arabicFold[lc]
			}
			if !ok {
				b.WriteRune(c)
				continue
			}
			if lc != c && t != "" {
				t = strings.ToUpper(t[:1]) + t[1:]
			}
			b.WriteString(t)
		}
		return b.String()
	}
	panic(fmt.Sprintf("synth: unknown script %q", script))
}

// fromLatin maps Latin letters through table, longest match first; cased
// says whether the target script has upper case.
func fromLatin(s string, table map[string]string, cased bool) string {
	// Reduce accented letters to ASCII first so that "é" maps like "e".
	var rs []rune
	for _, c := range s {
		if c < utf8.RuneSelf {
			rs = append(rs, c)
			continue
		}
		lc := unicode.ToLower(c)
		t, ok := latinFold[lc]
		if lc < utf8.RuneSelf {
			t, ok = string(lc), true // İ, the Kelvin sign
		}
		if !ok {
			rs = append(rs, c)
			continue
		}
		for i := 0; i < len(t); i++ {
			d := rune(t[i])
			if i == 0 && lc != c {
				d = unicode.ToUpper(d)
			}
			rs = append(rs, d)
		}
	}
	var b strings.Builder
	var key [4]byte
	for i := 0; i < len(rs); {
		c := rs[i]
		if c >= utf8.RuneSelf || !isLetter(byte(c)) {
			b.WriteRune(c)
			i++
			continue
		}
		n := 0
		for n < len(key) && i+n < len(rs) && rs[i+n] < utf8.RuneSelf && isLetter(byte(rs[i+n])) {
			key[n] = toLower(byte(rs[i+n]))
			n++
		}
		for ; n > 0; n-- {
			t, ok := table[string(key[:n])]
			if !ok {
				continue
			}
			if cased && key[0] == 'y' && n == 1 && i > 0 && strings.ContainsRune("aeiouAEIOU", rs[i-1]) {
				t = "й" // a y after a vowel closes the syllable
			}
			if cased && isUpper(byte(c)) {
				f, size := utf8.DecodeRuneInString(t)
				t = string(unicode.ToUpper(f)) + t[size:]
			}
			b.WriteString(t)
			i += n
			break
		}
	}
	return b.String()
}

var toCyrillic = map[string]string{
	"a": "а", "b": "б", "c": "к", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х",
	"i": "и", "j": "дж", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п",
	"q": "к", "r": "р", "s": "с", "t": "т", "u": "у", "v": "в", "w": "в", "x": "кс",
	"y": "и", "z": "з",
	"shch": "щ", "sh": "ш", "ch": "ч", "zh": "ж", "kh": "х", "ts": "ц", "ya": "я",
	"yu": "ю", "yo": "ё", "ph": "ф", "th": "т", "ck": "к", "qu": "кв", "ee": "и", "oo": "у",
}

var toArabic = map[string]string{
	"a": "ا", "b": "ب", "c": "ك", "d": "د", "e": "ي", "f": "ف", "g": "غ", "h": "ه",
	"i": "ي", "j": "ج", "k": "ك", "l": "ل", "m": "م", "n": "ن", "o": "و", "p": "ب",
	"q": "ق", "r": "ر", "s": "س", "t": "ت", "u": "و", "v": "ف", "w": "و", "x": "كس",
	"y": "ي", "z": "ز",
	"sh": "ش", "ch": "تش", "kh": "خ", "th": "ث", "gh": "غ", "ph": "ف", "ou": "و",
	"ee": "ي", "oo": "و", "ck": "ك", "qu": "كو",
}

// latinFold reduces accented Latin letters (lower case) to ASCII.
var latinFold = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'ā': "a", 'ă': "a", 'ą': "a",
	'æ': "ae", 'ç': "c", 'ć': "c", 'č': "c", 'ď': "d", 'đ': "d",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ė': "e", 'ę': "e", 'ě': "e",
	'ğ': "g", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ī': "i", 'ı': "i", 'ł': "l",
	'ñ': "n", 'ń': "n", 'ň': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o",
	'ø': "o", 'ō': "o", 'ő': "o", 'œ': "oe", 'ř': "r", 'ś': "s", 'š': "s", 'ş': "s",
	'ß': "ss", 'ť': "t", 'ţ': "t", 'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ū': "u",
	'ů': "u", 'ű': "u", 'ý': "y", 'ÿ': "y", 'ź': "z", 'ż': "z", 'ž': "z", 'þ': "th",
	'ð': "d",
}

var cyrillicFold = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "yo", 'ж': "zh",
	'з': "z", 'и': "i", 'й': "y", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o",
	'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts",
	'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu",
	'я': "ya", 'і': "i", 'ї': "yi", 'є': "ye", 'ґ': "g", 'ј': "j", 'ѕ': "s", 'һ': "h",
	'ү': "u",
}

// greekFold maps by look rather than sound where a letter serves as a
// confusable for a Latin one (ρ is p, χ is x), by sound otherwise.
var greekFold = map[rune]string{
	'α': "a", 'β': "b", 'γ': "g", 'δ': "d", 'ε': "e", 'ζ': "z", 'η': "h", 'θ': "th",
	'ι': "i", 'κ': "k", 'λ': "l", 'μ': "m", 'ν': "n", 'ξ': "x", 'ο': "o", 'π': "p",
	'ρ': "p", 'σ': "s", 'ς': "s", 'ϲ': "c", 'τ': "t", 'υ': "y", 'φ': "f", 'χ': "x",
	'ψ': "ps", 'ω': "o",
}

var arabicFold = map[rune]string{
	'ا': "a", 'أ': "a", 'إ': "i", 'آ': "a", 'ب': "b", 'ت': "t", 'ث': "th", 'ج': "j",
	'ح': "h", 'خ': "kh", 'د': "d", 'ذ': "dh", 'ر': "r", 'ز': "z", 'س': "s", 'ش': "sh",
	'ص': "s", 'ض': "d", 'ط': "t", 'ظ': "z", 'ع': "", 'غ': "gh", 'ف': "f", 'ق': "q",
	'ك': "k", 'ل': "l", 'م': "m", 'ن': "n", 'ه': "h", 'ة': "a", 'و': "u", 'ي': "i",
	'ى': "a", 'ء': "", 'ئ': "", 'ؤ': "", 'پ': "p", 'چ': "ch", 'ژ': "zh", 'گ': "g",
	'ک': "k", 'ی': "i", 'ټ': "t", 'ډ': "d", 'ړ': "r", 'ږ': "zh", 'ښ': "sh", 'ځ': "dz",
	'څ': "ts", 'ګ': "g", 'ڼ': "n", 'ۍ': "ai", 'ې': "e",
	'،': ",", '؛': ";", '؟': "?", '٠': "0", '١': "1", '٢': "2", '٣': "3", '٤': "4",
	'٥': "5", '٦': "6", '٧': "7", '٨': "8", '٩': "9", '۰': "0", '۱': "1", '۲': "2",
	'۳': "3", '۴': "4", '۵': "5", '۶': "6", '۷': "7", '۸': "8", '۹': "9",
}

// foldASCII reduces s to ASCII for making handles: Latin letters lose
// their accents, other scripts are romanised, marks are dropped, and what
// has no ASCII form becomes a space, so that it still separates what it
// stood between ("Velmora★News" keeps two words).
func foldASCII(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c < utf8.RuneSelf {
			b.WriteRune(c)
			continue
		}
		lc := unicode.ToLower(c)
		t, ok := latinFold[lc]
		if lc < utf8.RuneSelf {
			t, ok = string(lc), true
		}
		if !ok {
			t, ok = cyrillicFold[lc]
		}
		if !ok {
			t, ok = greekFold[lc]
		}
		if !ok {
			t, ok = arabicFold[lc]
		}
		if !ok && !unicode.IsMark(c) {
			t = " "
		}
		if lc != c && t != "" {
			t = strings.ToUpper(t[:1]) + t[1:]
		}
		b.WriteString(t)
	}
	return b.String()
}
