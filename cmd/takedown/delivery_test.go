package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/simnet"
)

// The delivery tests refer an operation to the simulated providers on
// every channel (e-mail to the simulator's SMTP server, signed webhooks, a
// provider API) while things break: providers down, answering 500,
// answering slowly, cutting the connection; the mail server down for a
// while; the worker process killed with SIGKILL. In the end every batch
// must have arrived, and arrived once per idempotency key. They run on
// SQLite and, when TAKEDOWN_TEST_DATABASE_URL is set (always in CI), on
// PostgreSQL.

// testBackends returns a fresh database for each backend.
func testBackends(t *testing.T) map[string]func(t *testing.T) string {
	bs := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return filepath.Join(t.TempDir(), "takedown.db") },
	}
	url := os.Getenv("TAKEDOWN_TEST_DATABASE_URL")
	switch {
	case url != "":
		bs["postgres"] = func(t *testing.T) string {
			dsn := freshSchema(t, url)
			mustRun(t, "--db", dsn, "migrate")
			return dsn
		}
	case os.Getenv("TAKEDOWN_TEST_REQUIRE_POSTGRES") == "1":
		t.Fatal("TAKEDOWN_TEST_REQUIRE_POSTGRES=1 but TAKEDOWN_TEST_DATABASE_URL is not set")
	}
	return bs
}

// deliveryWorld is a simulator and a database with an operation referred
// to it, not yet delivered.
type deliveryWorld struct {
	dsn  string
	sim  *simnet.Server
	info string // the simulator's description, for --simnet
	db   database
	refs []*takedown.Referral
}

// simChannel is what the simulator calls a channel.
var simChannel = map[takedown.Channel]string{takedown.ChannelEmail: "mail", takedown.ChannelWebhook: "webhook", takedown.ChannelAPI: "api"}

func newDeliveryWorld(t *testing.T, dsn string, maxItems int) *deliveryWorld {
	t.Helper()
	ctx := context.Background()
	sim, err := simnet.Start(ctx, simnet.Config{Scenario: readScenario(t, smallScenario), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	dir := t.TempDir()
	w := &deliveryWorld{dsn: dsn, sim: sim, info: filepath.Join(dir, "simnet.json")}
	if _, err := writeSimnetInfo(sim.Info(), w.info); err != nil {
		t.Fatal(err)
	}
	truth, err := sim.World().WriteExports(filepath.Join(dir, "exports"))
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, "--db", dsn, "agency", "add", "aa-iru", "--name", "Agency A")
	mustRun(t, "--db", dsn, "operation", "create", "rad-faults", "--name", "Faults", "--agencies", "aa-iru", "--evidence", "off")
	for _, f := range truth.Files[:2] {
		mustRun(t, "--db", dsn, "import", "--operation", "rad-faults", "--agency", "aa-iru", "--progress", "never", f.Path)
	}
	g := &globals{db: dsn, logger: slog.New(slog.DiscardHandler), stdout: io.Discard, stderr: io.Discard}
	if w.db, err = openDatabase(ctx, g); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.db.Close() })
	// Every provider takes e-mail and webhooks; the channel service also
	// has its API.
	if _, err := demoProviders(ctx, w.db, sim.Info()); err != nil {
		t.Fatal(err)
	}
	for _, sp := range sim.Info().Providers {
		p, err := w.db.FindProvider(ctx, sp.Platform)
		if err != nil {
			t.Fatal(err)
		}
		p.Contacts = takedown.ProviderContacts{AbuseEmail: sp.AbuseEmail, Webhook: &takedown.WebhookContact{URL: sp.Webhook, Secret: sp.WebhookSecret}}
		if sp.Platform == "telegram" {
			p.Contacts.API = &takedown.APIContact{URL: sp.API, Token: sp.Token}
		}
		if err := w.db.UpdateProvider(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	out := mustRun(t, "--db", dsn, "refer", "--operation", "rad-faults", "--max-items", fmt.Sprint(maxItems))
	if w.refs, err = w.db.ListReferrals(ctx, takedown.ReferralFilter{}); err != nil {
		t.Fatal(err)
	}
	if len(w.refs) < 5 {
		t.Fatalf("only %d batches to deliver:\n%s", len(w.refs), out)
	}
	return w
}

// worker returns the arguments of a worker that delivers to the simulator
// and retries fast.
func (w *deliveryWorld) worker(extra ...string) []string {
	return append([]string{"--db", w.dsn, "--log-level", "error", "worker", "--simnet", w.info, "--captures=false", "--concurrency", "8",
		"--retry-base", "200ms", "--retry-max", "1s", "--delivery-timeout", "2s"}, extra...)
}

// pending counts the deliveries not yet delivered, and the dead ones.
func (w *deliveryWorld) pending(t *testing.T) (pending, dead int) {
	t.Helper()
	rs, err := w.db.ListReferrals(context.Background(), takedown.ReferralFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		for _, d := range r.Deliveries {
			switch d.State {
			case takedown.DeliveryDelivered:
			case takedown.DeliveryDead:
				dead++
			default:
				pending++
			}
		}
	}
	return pending, dead
}

// waitDelivered waits until nothing is pending.
func (w *deliveryWorld) waitDelivered(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		p, dead := w.pending(t)
		if dead > 0 {
			t.Fatalf("%d deliveries dead-lettered", dead)
		}
		if p == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still pending after %v", p, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkOnce checks that every batch reached its provider once on every
// channel it has: the receiver sees each idempotency key once, however
// often takedown tried.
func (w *deliveryWorld) checkOnce(t *testing.T) {
	t.Helper()
	got := map[string]int{}
	for _, rep := range w.sim.Reports() {
		got[rep.IdempotencyKey+" "+rep.Channel]++
	}
	channels := 0
	for _, r := range w.refs {
		for _, d := range r.Deliveries {
			if d.Channel == takedown.ChannelPortal {
				continue
			}
			channels++
			if n := got[r.IdempotencyKey+" "+simChannel[d.Channel]]; n != 1 {
				t.Errorf("batch %s to %s arrived %d times by %s, want once; takedown says %+v", r.IdempotencyKey, r.Provider, n, d.Channel, d)
			}
		}
	}
	if channels < 2*len(w.refs) {
		t.Errorf("%d channel deliveries for %d batches: every batch should go by e-mail and webhook at least", channels, len(w.refs))
	}
}

// TestDeliveryFaults: providers that are down, answer 500, answer slowly
// or cut the connection, and a mail server that is down for a while, all
// at once; the batches go once each is back.
func TestDeliveryFaults(t *testing.T) {
	t.Parallel()
	for name, fresh := range testBackends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newDeliveryWorld(t, fresh(t), 60)
			for platform, f := range map[string]simnet.Fault{
				"telegram": {Mode: simnet.FaultReset},
				"x":        {Mode: simnet.FaultDown},
				"youtube":  {Mode: simnet.FaultError},
				"webhost":  {Mode: simnet.FaultSlow, Delay: 5 * time.Second},
				"filehost": {Mode: simnet.FaultError},
			} {
				f.Until = time.Now().Add(3 * time.Second)
				w.sim.SetFault(platform, f)
			}
			if err := w.sim.SetSMTPDown(true); err != nil {
				t.Fatal(err)
			}
			time.AfterFunc(3*time.Second, func() { w.sim.SetSMTPDown(false) })

			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan int, 1)
			var out, errOut strings.Builder
			go func() { done <- run(ctx, w.worker(), strings.NewReader(""), &out, &errOut) }()
			w.waitDelivered(t, 90*time.Second)
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("worker: exit %d: %s", code, errOut.String())
			}
			w.checkOnce(t)
			// The faults were met: the deliveries were tried more than once.
			rs, _ := w.db.ListReferrals(context.Background(), takedown.ReferralFilter{})
			retried := map[takedown.Channel]int{}
			for _, r := range rs {
				for _, d := range r.Deliveries {
					if d.Attempts > 1 {
						retried[d.Channel]++
					}
				}
			}
			for _, c := range []takedown.Channel{takedown.ChannelEmail, takedown.ChannelWebhook, takedown.ChannelAPI} {
				if retried[c] == 0 {
					t.Errorf("no %s delivery was retried: the faults were not met (%v)", c, retried)
				}
			}
			faulted := map[string]bool{}
			for _, rq := range w.sim.APIRequests() {
				if rq.Fault != "" {
					faulted[rq.Provider+" "+rq.Fault] = true
				}
			}
			for _, want := range []string{"telegram reset", "x down", "youtube error", "webhost slow"} {
				if !faulted[want] {
					t.Errorf("the simulator saw no request meet %q: %v", want, faulted)
				}
			}
		})
	}
}

// TestDeliveryKilled kills the worker process with SIGKILL at random
// moments while it delivers, starts it again, and again; in the end every
// batch has arrived, none twice by its idempotency key.
func TestDeliveryKilled(t *testing.T) {
	t.Parallel()
	kills := 6
	if testing.Short() {
		kills = 3
	}
	for name, fresh := range testBackends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newDeliveryWorld(t, fresh(t), 20)
			// Providers that take a batch and confirm it late keep
			// deliveries in flight when the kill comes: a batch the
			// provider has but takedown has not recorded is the case
			// that must not arrive twice.
			for _, sp := range w.sim.Info().Providers {
				w.sim.SetFault(sp.Platform, simnet.Fault{Mode: simnet.FaultLag, Delay: 300 * time.Millisecond})
			}
			w.sim.SetSMTPLag(300 * time.Millisecond)
			args := w.worker("--rescue-after", "2s")
			for i := range kills {
				cmd := exec.Command(os.Args[0], args...)
				cmd.Env = append(os.Environ(), runMainEnv+"=1")
				cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(300+rand.IntN(900)) * time.Millisecond)
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				cmd.Wait()
				p, _ := w.pending(t)
				t.Logf("kill %d: %d deliveries pending", i+1, p)
			}
			for _, sp := range w.sim.Info().Providers {
				w.sim.SetFault(sp.Platform, simnet.Fault{})
			}
			w.sim.SetSMTPLag(0)
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), runMainEnv+"=1")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				cmd.Process.Signal(syscall.SIGTERM)
				cmd.Wait()
			}()
			// A job the killed process held runs again once the queue's
			// leader finds it abandoned (it looks every 30 s).
			w.waitDelivered(t, 3*time.Minute)
			w.checkOnce(t)
			// What the receivers saw again: batches sent before a kill
			// and not yet recorded as delivered, sent once more under
			// the same key after the restart.
			resent := 0
			for _, m := range w.sim.Mails() {
				if m.Duplicate {
					resent++
				}
			}
			for _, h := range w.sim.Webhooks() {
				if h.Duplicate {
					resent++
				}
			}
			keys := map[string]int{}
			for _, rq := range w.sim.APIRequests() {
				if rq.Method == "POST" && rq.IdempotencyKey != "" {
					if keys[rq.IdempotencyKey]++; keys[rq.IdempotencyKey] == 2 {
						resent++
					}
				}
			}
			t.Logf("%d batches sent again after a kill and recognised by their key", resent)
		})
	}
}
