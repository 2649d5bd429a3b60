package signals

import "testing"

// Invented handles; the mutations are the ones networks use.
func TestHandleSimilarity(t *testing.T) {
	t.Parallel()
	cases := []struct {
		a, b     string
		min, max float64
	}{
		{"nimir_gazette", "Nimir_Gazette", 1, 1},
		{"@nimir_gazette", "nimir.gazette", 1, 1},
		{"nimir_gazette", "nіmіr_gazеtte", 1, 1}, // Cyrillic і and е
		{"novosti_doliny", "новости_долины", 1, 1},
		{"nimir_gazette", "nimir_gazette2", 0.9, 0.9},
		{"nimir_gazette", "nimir_gazette_official", 0.9, 0.9},
		{"nimir_gazette", "news_nimir_gazette_backup", 0.9, 0.9},
		{"nimir_gazette", "nimri_gazette", 0.75, 0.85}, // swapped letters
		{"nimir_gazette", "nimir_gazete", 0.75, 0.85},  // a letter dropped
		{"nimir_gazette", "harbour_weather", 0, 0.5},   // unrelated
		{"kourier_ravenda", "courier_ravenda", 0.75, 0.85},
		{"", "x", 0, 0},
	}
	for _, c := range cases {
		if s := HandleSimilarity(c.a, c.b); s < c.min || s > c.max {
			t.Errorf("%q ~ %q: %.3f, want %.2f-%.2f", c.a, c.b, s, c.min, c.max)
		}
		if s1, s2 := HandleSimilarity(c.a, c.b), HandleSimilarity(c.b, c.a); s1 != s2 {
			t.Errorf("%q ~ %q: not symmetric (%.3f, %.3f)", c.a, c.b, s1, s2)
		}
	}
	// Keys are skeletons (an "m" reads as "rn"), the same for both sides.
	if HandleCore("Nimir_Gazette_TV_2") != HandleKey("nimirgazette") {
		t.Errorf("core %q, key %q", HandleCore("Nimir_Gazette_TV_2"), HandleKey("nimirgazette"))
	}
}

func FuzzHandleSimilarity(f *testing.F) {
	f.Add("nimir_gazette", "nimir_gazette2")
	f.Add("", "\xff")
	f.Add("новости", "novosti")
	f.Fuzz(func(t *testing.T, a, b string) {
		s := HandleSimilarity(a, b)
		if s < 0 || s > 1 || s != HandleSimilarity(b, a) {
			t.Fatalf("%q ~ %q: %v", a, b, s)
		}
		if HandleKey(a) != "" && HandleSimilarity(a, a) != 1 {
			t.Fatalf("%q is not itself", a)
		}
	})
}
