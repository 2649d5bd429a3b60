package stix

import (
	"context"
	"os"
	"testing"

	"github.com/takedown-project/takedown/internal/exchange"
)

// readAll reads a bundle and collects what Read hands out.
func readAll(t testing.TB, data []byte) ([]exchange.Finding, []exchange.Problem, Summary, error) {
	t.Helper()
	var fs []exchange.Finding
	var ps []exchange.Problem
	sum, err := Read(context.Background(), bytesReader(data), func(f exchange.Finding) error {
		fs = append(fs, f)
		return nil
	}, func(p exchange.Problem) { ps = append(ps, p) })
	return fs, ps, sum, err
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
