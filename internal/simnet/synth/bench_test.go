package synth

import "testing"

func BenchmarkHandle(b *testing.B) {
	r := newRand(1)
	brand := BrandName(r)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Handle(r, brand, Platforms[i%len(Platforms)])
	}
}

func BenchmarkPostText(b *testing.B) {
	r := newRand(1)
	links := []string{"https://t.me/velmora_news/42", "https://velmora-dispatch.example/2026/11/a.html"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		PostText(r, Languages[i%len(Languages)], links)
	}
}

func BenchmarkMutateHandle(b *testing.B) {
	r := newRand(1)
	var hs []string
	for _, p := range Platforms {
		hs = append(hs, Handle(r, BrandName(r), p))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := i % len(Platforms)
		MutateHandle(r, hs[k], Platforms[k])
	}
}

func BenchmarkEditText(b *testing.B) {
	r := newRand(1)
	text := PostText(r, "en", []string{"https://t.me/velmora_news/42"}) + " " + Description(r, "en")
	b.ReportAllocs()
	for b.Loop() {
		EditText(r, text)
	}
}
