package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestBenchLoad: the load generator sets up its agencies, drives the API
// on loopback for a moment on each backend, and reports every kind of
// request with none failed; run twice, it reuses its agencies.
func TestBenchLoad(t *testing.T) {
	t.Parallel()
	for name, fresh := range testBackends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := fresh(t)
			mustRun(t, "--db", db, "agency", "add", "aa-iru", "--name", "Unit A")
			mustRun(t, "--db", db, "operation", "create", "load", "--name", "Load", "--agencies", "aa-iru")
			mustRun(t, "--db", db, "import", "--operation", "load", "--agency", "aa-iru", "../../examples/agency-a.csv")
			for range 2 {
				out := mustRun(t, "--db", db, "--log-level", "error", "bench", "load", "--operation", "load", "--agencies", "3", "--duration", "3s", "--max-requests", "300", "--import-share", "0.2", "--batch", "5")
				m := regexp.MustCompile(`(\d+) requests in \S+: (\d+) requests/s sustained, (\d+) failed`).FindStringSubmatch(out)
				if m == nil || m[1] == "0" || m[3] != "0" {
					t.Fatalf("bench load:\n%s", out)
				}
				for _, kind := range []string{"all", "import", "list", "search", "figures"} {
					if !strings.Contains(out, "\n"+kind+" ") {
						t.Errorf("the report lacks %s:\n%s", kind, out)
					}
				}
			}
			if out := mustRun(t, "--db", db, "agency", "list"); strings.Count(out, "load-0") != 3 {
				t.Errorf("agencies after two runs:\n%s", out)
			}
		})
	}
}
