package importer

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/takedown-project/takedown"
)

// nopItems accepts everything and stores nothing: the benchmark measures
// reading and parsing only.
type nopItems struct{ *fakeItems }

func (*nopItems) Submit(_ context.Context, _ int64, subs []takedown.NewSubmission) ([]takedown.SubmitResult, error) {
	return make([]takedown.SubmitResult, len(subs)), nil
}

// BenchmarkImportParse: go test -run X -bench ImportParse -benchmem ./internal/importer
func BenchmarkImportParse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("url,kind,title,notes,tags,language,found_at,case_ref\n")
	const rows = 100_000
	for i := range rows {
		fmt.Fprintf(&sb, "https://t.me/s/Example_Chan%d?utm_source=x,channel,Title %d,\"a note, quoted\",media;relay,ar,2026-11-20,A-%d\n", i, i, i)
	}
	in := sb.String()
	recognize := func(raw string) (takedown.Recognition, error) {
		return takedown.Recognition{Identity: raw, Canonical: raw, Platform: takedown.PlatformWeb, Kind: takedown.KindWebsite}, nil
	}
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		sum, err := Import(context.Background(), &nopItems{newFakeItems()}, strings.NewReader(in), Options{OperationID: 1, AgencyID: 1, Recognize: recognize})
		if err != nil || sum.Rows != rows {
			b.Fatal(sum, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}
