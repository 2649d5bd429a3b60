package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// get fetches url and returns its status and body.
func get(t *testing.T, url string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsEndpoints: serve answers /healthz, /readyz and, to this
// machine only, /metrics with its requests' times and the queue's depth
// read from the database (both backends); a worker started with
// --metrics-listen answers them on that address.
func TestMetricsEndpoints(t *testing.T) {
	t.Parallel()
	for name, fresh := range testBackends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := fresh(t)
			mustRun(t, "--db", db, "agency", "add", "aa-iru", "--name", "Unit A")
			mustRun(t, "--db", db, "operation", "create", "m", "--name", "Metrics", "--agencies", "aa-iru")
			// An import queues a refresh of the planner's statistics: a
			// job for the queue's depth to show.
			mustRun(t, "--db", db, "import", "--operation", "m", "--agency", "aa-iru", "../../examples/agency-a.csv")
			base := serveForTest(t, db)
			if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
				t.Errorf("/healthz: %d %q", code, body)
			}
			if code, body := get(t, base+"/readyz"); code != 200 || body != "ready\n" {
				t.Errorf("/readyz: %d %q", code, body)
			}
			get(t, base+"/login")
			code, body := get(t, base+"/metrics")
			if code != 200 {
				t.Fatalf("/metrics: %d %s", code, body)
			}
			for _, want := range []string{`takedown_http_request_duration_seconds_count{code="2xx",method="GET",part="ui"}`, `takedown_jobs{kind="db.analyze",state="available"} 1`} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
			if code, _ := get(t, base+"/metrics", "X-Forwarded-For", "203.0.113.9"); code != http.StatusForbidden {
				t.Errorf("/metrics through a proxy: %d, want 403", code)
			}

			// A worker's own metrics address.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			cmd, out := child(t, "--db", db, "worker", "--probes=false", "--captures=false", "--watch=false", "--metrics-listen", addr)
			defer func() {
				cmd.Process.Signal(syscall.SIGTERM)
				cmd.Wait()
			}()
			deadline := time.Now().Add(30 * time.Second)
			for {
				resp, err := http.Get("http://" + addr + "/metrics")
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if !strings.Contains(string(b), "go_goroutines") || !strings.Contains(string(b), "process_cpu_seconds_total") {
						t.Errorf("the worker's /metrics:\n%s", b)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the worker's metrics address did not answer: %v\n%s", err, out)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if code, body := get(t, "http://"+addr+"/readyz"); code != 200 {
				t.Errorf("the worker's /readyz: %d %q", code, body)
			}
		})
	}
}
