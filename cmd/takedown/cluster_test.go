package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/takedown-project/takedown/internal/simnet"
)

// TestClusterFaults: three worker processes and two serve processes (real
// child processes) share one PostgreSQL database while a simulated
// operation's referrals go out and its referred items are probed; one
// worker is killed with SIGKILL mid-run and another started; PostgreSQL
// itself is restarted once. In the end every batch has been delivered
// once per idempotency key on every channel, every referred item has been
// probed, no delivery job is left unfinished or was given up, both serve
// processes are ready again, and the audit chain verifies.
//
// It restarts the machine's PostgreSQL, which every other test using it
// would feel, so it runs only when asked, on its own:
// TAKEDOWN_TEST_CLUSTER=1 with TAKEDOWN_TEST_PG_RESTART set to the command
// that restarts the server (.ci/run does this after the other tests).
func TestClusterFaults(t *testing.T) {
	if os.Getenv("TAKEDOWN_TEST_CLUSTER") != "1" {
		t.Skip("restarts PostgreSQL: run alone with TAKEDOWN_TEST_CLUSTER=1 and TAKEDOWN_TEST_PG_RESTART (as .ci/run does)")
	}
	base, restart := os.Getenv("TAKEDOWN_TEST_DATABASE_URL"), os.Getenv("TAKEDOWN_TEST_PG_RESTART")
	if base == "" || restart == "" {
		t.Fatal("TAKEDOWN_TEST_CLUSTER=1 needs TAKEDOWN_TEST_DATABASE_URL and TAKEDOWN_TEST_PG_RESTART")
	}
	dsn := freshSchema(t, base)
	mustRun(t, "--db", dsn, "migrate")
	w := newDeliveryWorld(t, dsn, 5)
	// Providers that confirm late keep deliveries in flight when the kill
	// and the restart come.
	for _, sp := range w.sim.Info().Providers {
		w.sim.SetFault(sp.Platform, simnet.Fault{Mode: simnet.FaultLag, Delay: 400 * time.Millisecond})
	}
	w.sim.SetSMTPLag(400 * time.Millisecond)
	var logs []*bytes.Buffer
	worker := func() *exec.Cmd {
		cmd, out := child(t, w.worker("--rescue-after", "3s", "--probe-schedule", "1s,2s,1h", "--probe-every", "1s", "--watch=false", "--log-level", "warn")...)
		logs = append(logs, out)
		return cmd
	}
	var workers []*exec.Cmd
	for range 3 {
		workers = append(workers, worker())
	}
	type server struct {
		cmd *exec.Cmd
		out *bytes.Buffer
	}
	var servers []server
	for range 2 {
		cmd, out := child(t, "--db", dsn, "serve", "--jobs=false", "--listen", "127.0.0.1:0")
		servers = append(servers, server{cmd, out})
	}
	defer func() {
		for _, c := range workers {
			c.Process.Signal(syscall.SIGTERM)
		}
		for _, s := range servers {
			s.cmd.Process.Signal(syscall.SIGTERM)
		}
		for _, c := range workers {
			c.Wait()
		}
		for _, s := range servers {
			s.cmd.Wait()
		}
	}()
	addrs := make([]string, len(servers))
	served := regexp.MustCompile(`addr=http://(127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(30 * time.Second)
	for i, s := range servers {
		for addrs[i] == "" {
			if m := served.FindStringSubmatch(s.out.String()); m != nil {
				addrs[i] = m[1]
			} else if time.Now().After(deadline) {
				t.Fatalf("serve %d did not start:\n%s", i+1, s.out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// Mid-run: a worker killed, another started; then PostgreSQL
	// restarted under all of them.
	time.Sleep(1500 * time.Millisecond)
	p, _ := w.pending(t)
	t.Logf("killing worker 1 with %d deliveries pending", p)
	workers[0].Process.Signal(syscall.SIGKILL)
	workers[0].Wait()
	workers = append(workers[1:], worker())
	time.Sleep(time.Second)
	p, _ = w.pending(t)
	t.Logf("restarting PostgreSQL with %d deliveries pending", p)
	if out, err := exec.Command("sh", "-c", restart).CombinedOutput(); err != nil {
		t.Fatalf("restart PostgreSQL (%s): %v\n%s", restart, err, out)
	}

	restarted := time.Now()
	w.waitDelivered(t, 3*time.Minute)
	t.Logf("every batch delivered %s after the restart", time.Since(restarted).Round(time.Millisecond))
	w.checkOnce(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	count := func(q string) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline = time.Now().Add(4 * time.Minute)
	for {
		unprobed := count(`SELECT count(*) FROM items i WHERE i.referred_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM observations o WHERE o.item_id = i.id)`)
		open := count(`SELECT count(*) FROM river_job WHERE kind = 'deliver' AND state NOT IN ('completed', 'cancelled', 'discarded')`)
		if unprobed == 0 && open == 0 {
			t.Logf("every referred item probed %s after the restart", time.Since(restarted).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			for i, l := range logs {
				t.Logf("worker %d's log (end):\n%s", i+1, tail(l.String(), 2000))
			}
			t.Fatalf("after the faults: %d referred items never probed, %d delivery jobs unfinished", unprobed, open)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := count(`SELECT count(*) FROM river_job WHERE kind = 'deliver' AND state = 'discarded'`); n != 0 {
		t.Errorf("%d delivery jobs were given up", n)
	}
	for i, addr := range addrs {
		code, body := get(t, "http://"+addr+"/readyz")
		if code != 200 {
			t.Errorf("serve %d after the restart: /readyz %d %q", i+1, code, body)
		}
	}
	if code, out, errOut := runTakedown(t, "", "--db", dsn, "audit", "verify"); code != 0 {
		t.Errorf("audit verify after the faults: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(servers[0].out.String(), "serving") {
		t.Errorf("serve 1's log:\n%s", servers[0].out)
	}
}

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
