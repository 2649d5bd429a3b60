package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/auth"
	"github.com/takedown-project/takedown/internal/importer"
	"github.com/takedown-project/takedown/internal/outbound"
	"github.com/takedown-project/takedown/internal/refer"
	"github.com/takedown-project/takedown/internal/resurgence"
	"github.com/takedown-project/takedown/internal/simnet"
)

type demoOptions struct {
	scenario  scenarioOptions
	dir       string
	listen    string
	untilDone bool
	// allAnswers makes --until-done wait for every item's answer.
	allAnswers bool
	keep       bool
	progress   string
	// ready, when set, is told the API's address and the demo user's
	// token (tests).
	ready func(addr, token string)
}

func newDemoCommand(g *globals) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a whole referral action day against the simulated internet",
		Long: `demo runs a referral action day end to end on this machine, with nothing to
install and nothing reaching a real platform: it starts the simulated internet
(takedown simnet), creates an operation with the scenario's agencies (eleven
in the built-in scenario) in a SQLite file, imports every agency's export
(about 26,000 distinct items, reported more often than that, in the agencies'
own formats and with broken rows among them), checks what the import made of
them against the scenario's ground truth, and serves the API on the result.

It keeps running until interrupted (Ctrl-C). With --until-done it exits once
the scenario has played out, with a summary, and with status 1 if a figure
does not match the ground truth.

The files stay in --dir when one is given (run the demo there again and it
adds nothing twice); a temporary folder is removed at the end unless --keep.`,
		Example: `  takedown demo
  takedown demo --dir /tmp/rad-demo --listen 127.0.0.1:8081
  takedown demo --until-done --scenario internal/simnet/scenarios/small.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), g, o, cmd.Flags().Changed("listen"))
		},
	}
	o.scenario.flags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", "", "folder for the database, the exports and the simulator's files (default: a temporary one)")
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address of the API")
	f.BoolVar(&o.untilDone, "until-done", false, "exit with a summary once the scenario has played out")
	f.BoolVar(&o.allAnswers, "all-answers", false, "with --until-done, wait until every item has its provider's answer (for scenarios whose providers ignore nothing)")
	f.BoolVar(&o.keep, "keep", false, "keep the temporary folder")
	f.StringVar(&o.progress, "progress", "auto", "progress bars: auto (on a terminal), always or never")
	return cmd
}

func runDemo(ctx context.Context, g *globals, o *demoOptions, listenGiven bool) error {
	s, err := o.scenario.load()
	if err != nil {
		return err
	}
	dir := o.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "takedown-demo-"); err != nil {
			return err
		}
		if !o.keep {
			defer os.RemoveAll(dir)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	out := g.stdout
	// The demo reports its own progress; the components' informational
	// logs would only interleave with it.
	dg := *g
	if g.logLevel == "info" {
		if dg.logger, err = newLogger(g.stderr, "warn", g.logFormat); err != nil {
			return err
		}
	}
	kept := "kept"
	if o.dir == "" && !o.keep {
		kept = "removed at the end; --dir or --keep keeps them"
	}
	fmt.Fprintf(out, "takedown demo: scenario %q (seed %d), files in %s (%s)\n\n", s.Name, s.Seed, dir, kept)

	// 1. The simulated internet.
	started := time.Now()
	srv, err := simnet.Start(ctx, simnet.Config{Scenario: s, Logger: dg.logger.With("component", "simnet")})
	if err != nil {
		return err
	}
	defer srv.Close()
	infoPath := filepath.Join(dir, "simnet.json")
	if _, err := writeSimnetInfo(srv.Info(), infoPath); err != nil {
		return err
	}
	world := srv.World()
	fmt.Fprintf(out, "1. simulated internet up in %s: %d items of %d outlets on five services, providers and an adversary\n", time.Since(started).Round(time.Millisecond), len(world.Entities), len(world.Outlets))

	// 2. The operation and its agencies, on an embedded SQLite file.
	dg.db = filepath.Join(dir, "takedown.db")
	db, err := openDatabase(ctx, &dg)
	if err != nil {
		return err
	}
	defer db.Close()
	op, agencies, err := demoOperation(ctx, db, s)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "2. operation %s (%s) with %d agencies in %s\n", op.Slug, op.Name, len(agencies), dg.db)
	login, err := demoUser(ctx, db, s.Agencies[0].Code)
	if err != nil {
		return err
	}

	// 3. What every agency found, in its own format.
	truth, err := world.WriteExports(filepath.Join(dir, "exports"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "3. the agencies' exports: %d files, %d rows (%d broken on purpose)\n", len(truth.Files), truth.Rows, truth.Bad)

	// 4. Import them all.
	fmt.Fprintf(out, "4. importing\n")
	// One line per file as it is done, so that the table is the progress.
	row := "   %-8s %-14s %7v %10v %8v %18v %9v\n"
	fmt.Fprintf(out, row, "agency", "format", "rows", "new items", "merged", "already submitted", "rejected")
	var total importer.Summary
	var mismatches []string
	for i, f := range truth.Files {
		sum, _, err := importFile(ctx, &dg, db, importJob{
			op: op, agency: agencies[i], path: f.Path, progress: o.progress, label: f.Agency.Code,
			errorsPath: strings.TrimSuffix(f.Path, filepath.Ext(f.Path)) + ".rejected.csv",
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, row, f.Agency.Code, f.Format, sum.Rows, sum.NewItems, sum.Merged, sum.Duplicates, sum.Rejected)
		total.Rows += sum.Rows
		total.NewItems += sum.NewItems
		total.Merged += sum.Merged
		total.Duplicates += sum.Duplicates
		total.Rejected += sum.Rejected
		newItems, merged, dups, rejected := f.Expected()
		got := [4]int64{sum.NewItems, sum.Merged, sum.Duplicates, sum.Rejected}
		if want := [4]int64{int64(newItems), int64(merged), int64(dups), int64(rejected)}; got != want && !o.rerun(sum) {
			mismatches = append(mismatches, fmt.Sprintf("%s: new items, merged, already submitted, rejected are %v, the ground truth says %v", f.Agency.Code, got, want))
		}
	}
	fmt.Fprintf(out, row, "total", "", total.Rows, total.NewItems, total.Merged, total.Duplicates, total.Rejected)

	// 5. Check the stored figures against the ground truth.
	items, submissions, err := countOperation(ctx, db, op.ID)
	if err != nil {
		return err
	}
	// Run again in the same folder, the operation holds what an earlier
	// run's resurgence added besides the exports: the candidates its
	// watch found, and the confirmed successors, each submitted once by
	// the demo's analyst.
	found, err := db.CountMatches(ctx, op.ID)
	if err != nil {
		return err
	}
	items -= found.Candidates + found.Successors
	submissions -= found.Successors
	fmt.Fprintf(out, "5. stored: %d items, %d submissions; the scenario's ground truth: %d distinct items found, %d submissions, %d broken rows\n",
		items, submissions, truth.Found, truth.Submissions, truth.Bad)
	if items != truth.Found {
		mismatches = append(mismatches, fmt.Sprintf("%d items stored, %d distinct items in the exports", items, truth.Found))
	}
	if submissions != truth.Submissions {
		mismatches = append(mismatches, fmt.Sprintf("%d submissions stored, %d in the exports", submissions, truth.Submissions))
	}

	// 6. Serve the API on the result, with workers that deliver to the
	// simulated providers.
	codes, err := demoProviders(ctx, db, srv.Info())
	if err != nil {
		return err
	}
	simOut, err := outbound.Simnet(outbound.SimnetInfo{HTTPS: srv.Info().HTTPS, HTTP: srv.Info().HTTP, SMTP: srv.Info().SMTP, CAPEM: srv.Info().CAPEM})
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	ready := make(chan string, 1)
	serveErr := make(chan error, 1)
	so := &serveOptions{listen: o.listen, jobs: true, queue: queueOptions{concurrency: 8, retryBase: time.Second, retryMax: time.Minute}, ready: func(addr string) { ready <- addr },
		sessionIdle: 30 * time.Minute, sessionMax: 12 * time.Hour,
		delivery: deliveryOptions{outbound: simOut, smtpPort: 587, smtpTLS: "mandatory", senderName: "Referral desk of the demo operation",
			senderEmail: "referrals@authority-alpha.example", senderOrg: "Competent Authority Alpha (simulated)",
			attempts: 12, pollInterval: 2 * time.Second, answerWithin: 24 * time.Hour},
		// The simulator is this machine's own: its hosts take many probes
		// at once, and the schedule runs in seconds, as its providers do
		// (one real second is minutes of scenario time).
		probes: probeOptions{on: true, outbound: simOut, perHost: 32, rate: 5000, concurrency: 128, timeout: 10 * time.Second,
			region: s.Region, schedule: []time.Duration{time.Second, 3 * time.Second, 5 * time.Second, 10 * time.Second, 20 * time.Second},
			confirmAfter: 3 * time.Second, recheck: time.Minute, every: time.Second},
		// The network's channels are read again every few seconds (minutes
		// of scenario time) for announcements of new channels.
		watch: watchOptions{on: true, every: 2 * time.Second, readEvery: 10 * time.Second, batch: 5000, maxFound: 20, threshold: resurgence.DefaultThreshold}}
	go func() { serveErr <- serveDB(ctx, &dg, so, db) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-serveErr:
		if !listenGiven && errors.Is(err, syscall.EADDRINUSE) {
			// The default port is taken: any free one will do.
			so.listen = "127.0.0.1:0"
			go func() { serveErr <- serveDB(ctx, &dg, so, db) }()
			select {
			case addr = <-ready:
			case err := <-serveErr:
				return err
			}
		} else {
			return err
		}
	}
	printDemoWhere(out, addr, op, dir, infoPath, srv, login)

	// 7. Preserve every item before it is referred: its page and the
	// images that identify it, as WARC files in the evidence store.
	// Only the items not referred yet (a run again in the same folder
	// captures only what is new).
	capt := &captureOptions{probes: probeOptions{outbound: simOut, perHost: 32, rate: 5000, concurrency: 128, timeout: 10 * time.Second, region: s.Region},
		resources: 1, pageBytes: 4 << 20, resourceSize: 2 << 20, concurrency: 64}
	capturer, capProber, err := capt.capturer(&dg)
	if err != nil {
		return err
	}
	defer capProber.Close()
	sum, err := captureItems(ctx, &dg, db, capturer, op, takedown.ItemFilter{OperationID: op.ID, Status: takedown.ItemSubmitted}, nil, capt.concurrency, o.progress)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "7. preserved: %d items captured in %s (%.0f MB of WARC files in %s; each page with its first image, the avatar): %s\n",
		sum.captures, sum.elapsed.Round(time.Millisecond), float64(sum.bytes)/(1<<20), strings.TrimSuffix(dg.db, ".db")+".evidence", sum.states.String())
	fmt.Fprintf(out, "   an item's evidence package, checked: takedown --db %s evidence export --item 1 --out %s && takedown evidence verify %s\n",
		dg.db, filepath.Join(dir, "evidence-item-1"), filepath.Join(dir, "evidence-item-1"))
	if !o.rerun(total) && sum.captures != items {
		mismatches = append(mismatches, fmt.Sprintf("%d of %d items captured before the referral", sum.captures, items))
	}

	// 8. Refer everything; the simulated providers' liaisons answer
	// through the API, as real ones would through the portal.
	tokens, err := demoLiaisons(ctx, db, codes)
	if err != nil {
		return err
	}
	srv.SetTakedown("http://"+addr, tokens)
	res, err := demoRefer(ctx, db, op, codes, nil)
	if err != nil {
		return err
	}
	referred := printDemoReferrals(out, res)
	if want := items - res.Unattributed; !o.rerun(total) && referred != want {
		mismatches = append(mismatches, fmt.Sprintf("%d items referred, %d attributed to a provider", referred, want))
	}
	fmt.Fprintf(out, "9. deliveries and the providers' answers as they arrive\n")
	if o.ready != nil {
		o.ready(addr, login.token)
	}
	// The batches of this run: run again in the same folder, the demo
	// refers only what is new, to a simulator that knows nothing of the
	// first run's batches.
	var batches []int64
	for _, r := range res.Referrals {
		batches = append(batches, r.ID)
	}

	desk := &resurgenceDesk{g: &dg, db: db, op: op, agency: s.Agencies[0].Code, codes: codes, capturer: capturer, srv: srv, out: out}
	if o.untilDone {
		// Until every batch is delivered and acknowledged; answers keep
		// coming for days of scenario time, and the demo shows the first.
		wait, cancel := context.WithTimeout(ctx, 5*time.Minute)
		p, err := watchReferrals(wait, out, db, op, batches, time.Second, func(p referralProgress) bool {
			if o.allAnswers {
				// And every item's verification agrees with the world.
				return p.acknowledged+p.dead >= p.batches && p.answered >= p.items && len(checkDemoVerification(ctx, db, op, srv)) == 0
			}
			return p.acknowledged+p.dead >= p.batches && (p.answered > 0 || p.batches == 0)
		})
		cancel()
		if err != nil {
			return err
		}
		if p.acknowledged < p.batches {
			mismatches = append(mismatches, fmt.Sprintf("%d of %d batches acknowledged after five minutes", p.acknowledged, p.batches))
		}
		// The first referrals' answers and verification, before the
		// successors are referred again.
		if o.allAnswers {
			if p.answered < p.items {
				mismatches = append(mismatches, fmt.Sprintf("%d of %d items answered after five minutes", p.answered, p.items))
			}
			mismatches = append(mismatches, checkDemoAnswers(ctx, db, res.Referrals, srv)...)
			mismatches = append(mismatches, checkDemoVerification(ctx, db, op, srv)...)
		}
		// 10. The network comes back: the watch finds its new channels,
		// the desk confirms and refers them again.
		fmt.Fprintf(out, "10. resurgence: the adversary re-creates removed channels; takedown reads the network's live channels for them, matches what it finds against the removed ones, and the demo's analyst confirms matches scoring %.2f or more and refers them again\n", demoConfirmScore)
		wait, cancel = context.WithTimeout(ctx, 4*time.Minute)
		rp, err := desk.run(wait, time.Second, func(p resurgenceProgress) bool { return p.counts.Referred > 0 })
		cancel()
		if err != nil {
			return err
		}
		// The desk's last batches reach their providers before the end.
		var deskBatches []int64
		for _, r := range desk.batches {
			deskBatches = append(deskBatches, r.ID)
		}
		wait, cancel = context.WithTimeout(ctx, time.Minute)
		_, err = watchReferrals(wait, io.Discard, db, op, deskBatches, time.Second, func(p referralProgress) bool { return p.acknowledged+p.dead >= p.batches })
		cancel()
		if err != nil {
			return err
		}
		if rp.counts == nil || rp.counts.Referred == 0 {
			mismatches = append(mismatches, fmt.Sprintf("no successor was found and referred again within four minutes (the adversary made %d)", rp.made))
		}
		figures, err := takedown.OperationResurgence(ctx, db, op, time.Now())
		if err != nil {
			return err
		}
		printResurgence(out, figures)
		mismatches = append(mismatches, checkDemoDeliveries(append(res.Referrals, desk.batches...), srv)...)
		if len(mismatches) > 0 {
			fmt.Fprintf(out, "\nMISMATCH with the ground truth:\n  %s\n", strings.Join(mismatches, "\n  "))
		}
		stop()
		<-serveErr
		fmt.Fprintf(out, "\ndone in %s: %d rows from %d agencies, %d items, %d submissions, %d rows rejected; %d batches referred, every one received once\n",
			time.Since(started).Round(time.Millisecond), total.Rows, len(agencies), items, submissions, total.Rejected, p.batches)
		if len(mismatches) > 0 {
			return errors.New("the demo's figures do not match the scenario's ground truth")
		}
		fmt.Fprintln(out, "every figure matches the scenario's ground truth")
		return nil
	}
	if len(mismatches) > 0 {
		fmt.Fprintf(out, "\nMISMATCH with the ground truth:\n  %s\n", strings.Join(mismatches, "\n  "))
	}
	fmt.Fprintln(out, "   (running until interrupted: Ctrl-C)")
	go watchReferrals(ctx, out, db, op, batches, 5*time.Second, nil)
	go desk.run(ctx, 5*time.Second, nil)
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return err
	}
	return <-serveErr
}

// printDemoReferrals shows the batches made, per provider, and returns how
// many items they hold.
func printDemoReferrals(w io.Writer, res *refer.Result) int {
	type row struct{ batches, items int }
	per := map[string]*row{}
	var names []string
	total := 0
	for _, r := range res.Referrals {
		k := r.Provider + " (" + string(r.LegalBasis) + ")"
		if per[k] == nil {
			per[k] = &row{}
			names = append(names, k)
		}
		per[k].batches++
		per[k].items += len(r.Items)
		total += len(r.Items)
	}
	slices.Sort(names)
	fmt.Fprintf(w, "8. referred: %d items in %d batches; %d without a provider, %d held\n", total, len(res.Referrals), res.Unattributed, len(res.Held))
	for _, n := range names {
		fmt.Fprintf(w, "   %-30s %4d batches %7d items\n", n, per[n].batches, per[n].items)
	}
	return total
}

// checkDemoDeliveries compares what takedown recorded with what the
// simulated providers received: every batch arrived, once per idempotency
// key on its channel.
func checkDemoDeliveries(rs []*takedown.Referral, srv *simnet.Server) []string {
	received := map[string]int{}
	for _, rep := range srv.Reports() {
		received[rep.IdempotencyKey]++
	}
	var bad []string
	for _, r := range rs {
		if n := received[r.IdempotencyKey]; n != 1 {
			bad = append(bad, fmt.Sprintf("batch %s reached its provider %d times, want once", r.IdempotencyKey, n))
		}
	}
	return bad
}

// rerun reports whether an import found everything known already: the
// demo run again in the same folder, where the per-file ground truth of a
// first import does not apply.
func (o *demoOptions) rerun(sum importer.Summary) bool {
	return o.dir != "" && sum.NewItems == 0 && sum.Merged == 0
}

// demoOperation creates the scenario's agencies and operation, or finds
// them when the demo runs again in the same folder.
func demoOperation(ctx context.Context, db database, s *simnet.Scenario) (*takedown.Operation, []*takedown.Agency, error) {
	var agencies []*takedown.Agency
	var codes []string
	for _, a := range s.Agencies {
		ag := &takedown.Agency{Code: a.Code, Name: a.Name, Country: a.Country}
		err := db.CreateAgency(ctx, ag)
		if takedown.ErrorCode(err) == takedown.ECONFLICT {
			ag, err = db.FindAgency(ctx, a.Code)
		}
		if err != nil {
			return nil, nil, err
		}
		agencies = append(agencies, ag)
		codes = append(codes, a.Code)
	}
	op := &takedown.Operation{Slug: s.Operation.Slug, Name: s.Operation.Name, Status: takedown.OperationOpen, Agencies: codes, Successors: takedown.SuccessorsRefer,
		Description: "A simulated referral action day of the takedown demo; every name and text in it is invented."}
	err := db.CreateOperation(ctx, op)
	if takedown.ErrorCode(err) == takedown.ECONFLICT {
		if op, err = db.FindOperation(ctx, s.Operation.Slug); err == nil {
			for _, c := range codes {
				if err = db.AddParticipant(ctx, op.Slug, c); err != nil {
					break
				}
			}
		}
	}
	if err != nil {
		return nil, nil, err
	}
	return op, agencies, nil
}

// countOperation counts an operation's items and their submissions by
// reading every item, as a figure must be countable item by item.
func countOperation(ctx context.Context, db database, operationID int64) (items, submissions int, err error) {
	err = takedown.EachItem(ctx, db, takedown.ItemFilter{OperationID: operationID}, func(it *takedown.Item) error {
		items++
		submissions += it.SubmissionCount
		return nil
	})
	return items, submissions, err
}

// demoLogin is how the demo's user signs in.
type demoLogin struct {
	user, password, token string
}

// demoUser makes (or, run again, refreshes) the demo's user: a coordinator
// of the first agency who also administers, with a fresh random password
// and token, so that the UI and the API can be tried at once.
func demoUser(ctx context.Context, db database, agency string) (demoLogin, error) {
	l := demoLogin{user: "demo"}
	pw := make([]byte, 12)
	rand.Read(pw)
	l.password = base64.RawURLEncoding.EncodeToString(pw)
	hash, err := auth.HashPassword(l.password)
	if err != nil {
		return l, err
	}
	u := &takedown.User{Name: l.user, DisplayName: "Demo coordinator", Agency: agency, Roles: []takedown.Role{takedown.RoleCoordinator, takedown.RoleAdmin}}
	err = db.CreateUser(ctx, u, hash)
	if takedown.ErrorCode(err) == takedown.ECONFLICT {
		_, err = db.UpdateUser(ctx, l.user, takedown.UserUpdate{PasswordHash: &hash})
	}
	if err != nil {
		return l, err
	}
	secret, prefix, tokenHash := auth.NewToken()
	t := &takedown.Token{User: l.user, Name: "demo", Prefix: prefix, Scopes: []takedown.Scope{takedown.ScopeRead, takedown.ScopeWrite}, ExpiresAt: time.Now().Add(7 * 24 * time.Hour)}
	if err := db.CreateToken(ctx, t, tokenHash); err != nil {
		return l, err
	}
	l.token = secret
	return l, nil
}

func printDemoWhere(w io.Writer, addr string, op *takedown.Operation, dir, infoPath string, srv *simnet.Server, login demoLogin) {
	base := "http://" + addr
	if host, port, err := net.SplitHostPort(addr); err == nil && host == "127.0.0.1" {
		base = "http://127.0.0.1:" + port
	}
	info := srv.Info()
	fmt.Fprintf(w, "6. serving\n")
	fmt.Fprintf(w, "   dashboard        %s/login?next=/operations/%s  (sign in as %s, password %s: the action day unfolds in its figures and charts)\n", base, op.Slug, login.user, login.password)
	fmt.Fprintf(w, "   API              %s/api/v1 (OpenAPI: %s/api/v1/openapi.json)\n", base, base)
	fmt.Fprintf(w, "   the items        curl -H 'Authorization: Bearer %s' '%s/api/v1/operations/%s/items?limit=20'\n", login.token, base, op.Slug)
	fmt.Fprintf(w, "   on the command line:  takedown --db %s items list --operation %s --platform telegram\n", filepath.Join(dir, "takedown.db"), op.Slug)
	fmt.Fprintf(w, "   simulated internet   HTTPS %s, SMTP %s; described in %s\n", info.HTTPS, info.SMTP, infoPath)
	fmt.Fprintf(w, "   its control API:     curl --cacert %s --connect-to ::%s %sstatus\n", strings.TrimSuffix(infoPath, ".json")+"-ca.pem", info.HTTPS, info.Control)
}

// checkDemoAnswers compares every item's answer as takedown recorded it
// with the simulated provider's decision.
func checkDemoAnswers(ctx context.Context, db database, rs []*takedown.Referral, srv *simnet.Server) []string {
	decided := map[string]string{}
	for _, rep := range srv.Reports() {
		for _, it := range rep.Items {
			decided[rep.IdempotencyKey+" "+it.URL] = it.Status
		}
	}
	var bad []string
	for _, r := range rs {
		whole, err := db.FindReferral(ctx, r.ID)
		if err != nil {
			return append(bad, err.Error())
		}
		for _, it := range whole.Items {
			if want := decided[r.IdempotencyKey+" "+it.URL]; string(it.Outcome) != want {
				bad = append(bad, fmt.Sprintf("%s: takedown recorded %s, the provider decided %q", it.URL, it.Outcome, want))
			}
		}
	}
	if len(bad) > 10 {
		bad = append(bad[:10], fmt.Sprintf("and %d more", len(bad)-10))
	}
	return bad
}

// checkDemoVerification compares every referred item's verification with
// the simulated world: an item the world shows offline (removed, withheld
// in the region, gone) must be confirmed offline, a live one online.
func checkDemoVerification(ctx context.Context, db database, op *takedown.Operation, srv *simnet.Server) []string {
	world, now, region := srv.World(), srv.Clock().Now(), srv.World().Scenario.Region
	var bad []string
	cursor := ""
	for {
		page, err := db.ListItems(ctx, takedown.ItemFilter{OperationID: op.ID, Cursor: cursor, Limit: takedown.MaxPageSize})
		if err != nil {
			return append(bad, err.Error())
		}
		for _, it := range page.Items {
			if it.Status == takedown.ItemSubmitted {
				continue // not referred
			}
			want := takedown.ItemConfirmed
			if world.Status(world.Resolve(it.URL), now, region) == simnet.StatusLive {
				want = takedown.ItemOnline
			}
			if it.Status != want && !(want == takedown.ItemOnline && it.Status == takedown.ItemReinstated) {
				bad = append(bad, fmt.Sprintf("%s is %s, the simulated world shows it %s", it.URL, it.Status, world.Status(world.Resolve(it.URL), now, region)))
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(bad) > 10 {
		bad = append(bad[:10], fmt.Sprintf("and %d more", len(bad)-10))
	}
	return bad
}
