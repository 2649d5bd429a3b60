package canon

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchURLs is a realistic mix: about 60% platform URLs of every platform
// with tracking parameters, host variants and mixed case, 40% websites with
// paths and queries, some IDN and percent-escapes.
func benchURLs(n int) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	forms := []func(i int) string{
		func(i int) string { return fmt.Sprintf("https://t.me/s/Example_Chan%d?utm_source=share", i) },
		func(i int) string { return fmt.Sprintf("t.me/example_chan%d/%d", i, i*7) },
		func(i int) string { return fmt.Sprintf("https://telegram.me/joinchat/AbCdEf%dGh", i) },
		func(i int) string {
			return fmt.Sprintf("https://mobile.twitter.com/Voice_%d/status/18610000%d?s=20&t=abc", i%9999, i)
		},
		func(i int) string { return fmt.Sprintf("https://x.com/voice_%d", i%99999) },
		func(i int) string {
			return fmt.Sprintf("https://www.youtube.com/watch?v=AbCdEf%05d&feature=share", i%100000)
		},
		func(i int) string { return fmt.Sprintf("https://www.youtube.com/@Studio%d", i) },
		func(i int) string { return fmt.Sprintf("https://www.instagram.com/lorem.depot%d/?igshid=%d", i, i) },
		func(i int) string { return fmt.Sprintf("https://www.facebook.com/groups/group.example%d", i) },
		func(i int) string {
			return fmt.Sprintf("https://www.tiktok.com/@dolor_%d/video/7300%d?is_from_webapp=1", i, i)
		},
		func(i int) string {
			return fmt.Sprintf("https://news-%d.example/2026/11/statement-%d.html?utm_campaign=x#top", i%500, i)
		},
		func(i int) string { return fmt.Sprintf("http://files.mirror%d.test/releases/issue-%d.pdf", i%300, i) },
		func(i int) string {
			return fmt.Sprintf("https://www.archive-%d.example/index.php?page=%d&lang=ar", i%700, i)
		},
		func(i int) string { return fmt.Sprintf("https://bücher-%d.example/katalog/%d", i%50, i) },
		func(i int) string { return fmt.Sprintf("http://Host-%d.EXAMPLE/a%%20b/./c/../d?q=%d", i%90, i) },
		func(i int) string { return fmt.Sprintf("https://blog%d.example.org/p/%d/", i%400, i) },
	}
	urls := make([]string, n)
	for i := range urls {
		urls[i] = forms[rng.IntN(len(forms))](i)
	}
	return urls
}

// BenchmarkRecognize: go test -run X -bench Recognize -benchmem -cpu 1 -count 5 ./internal/canon
func BenchmarkRecognize(b *testing.B) {
	urls := benchURLs(10000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := Recognize(urls[i%len(urls)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "urls/s")
}

func BenchmarkCanonicalize(b *testing.B) {
	urls := benchURLs(10000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := Canonicalize(urls[i%len(urls)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
