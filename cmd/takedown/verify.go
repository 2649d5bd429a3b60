package main

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/takedown-project/takedown"
	"github.com/takedown-project/takedown/internal/jobs"
	"github.com/takedown-project/takedown/internal/outbound"
	"github.com/takedown-project/takedown/internal/probe"
)

// probeOptions are how items are probed: politeness, safety, the
// classification rules and the schedule. serve, worker and probe share
// them.
type probeOptions struct {
	// on: this process probes referred items on schedule.
	on          bool
	allow       []string
	rulesFile   string
	perHost     int
	rate        float64
	hostLimits  []string
	concurrency int
	timeout     time.Duration
	maxBytes    int64
	region      string

	schedule     []time.Duration
	confirmAfter time.Duration
	recheck      time.Duration
	every        time.Duration

	// simnet names a simulator description: probes go to the simulated
	// internet (whose loopback address the guard then allows).
	simnet string
	// outbound, when set, is used instead of simnet (the demo).
	outbound *outbound.Config
}

func (o *probeOptions) register(f *pflag.FlagSet, scheduled bool) {
	f.StringSliceVar(&o.allow, "probe-allow", nil, "address ranges (CIDR) probes may reach despite the guard against private, loopback and link-local addresses")
	f.StringVar(&o.rulesFile, "probe-rules", "", "classification rules (YAML) that come before the built-in ones")
	f.IntVar(&o.perHost, "probe-per-host", 2, "probes of one host at once")
	f.Float64Var(&o.rate, "probe-rate", 2, "probes of one host per second")
	f.StringArrayVar(&o.hostLimits, "probe-host-limit", nil, "HOST=RATE[/AT-ONCE]: a host's own limits instead of --probe-rate and --probe-per-host (a provider that agrees to more, a site that asks for less); repeat for more hosts")
	f.IntVar(&o.concurrency, "probe-concurrency", 256, "probes at once in all")
	f.DurationVar(&o.timeout, "probe-timeout", 20*time.Second, "how long one probe may take, redirects included")
	f.Int64Var(&o.maxBytes, "probe-max-bytes", 256<<10, "bytes read of an answer at most")
	f.StringVar(&o.region, "probe-region", "EU", "where the probes look from, recorded with each (withholding is regional)")
	if !scheduled {
		return
	}
	f.BoolVar(&o.on, "probes", true, "probe referred items on schedule in this process (--probes=false leaves it to others)")
	f.DurationSliceVar(&o.schedule, "probe-schedule", takedown.DefaultSchedule.After, "probes after a referral's receipt, until a removal is confirmed; the last repeats")
	f.DurationVar(&o.confirmAfter, "confirm-after", takedown.DefaultSchedule.ConfirmAfter, "the least time between the two offline observations that confirm a removal")
	f.DurationVar(&o.recheck, "recheck", takedown.DefaultSchedule.Recheck, "how often a confirmed item is probed again, to catch reinstatement")
	f.DurationVar(&o.every, "probe-every", 10*time.Second, "how often due probes are looked for")
}

// schedule is the probe schedule the flags make.
func (o *probeOptions) scheduleOf() takedown.Schedule {
	s := takedown.DefaultSchedule
	if len(o.schedule) > 0 {
		s.After = o.schedule
	}
	if o.confirmAfter > 0 {
		s.ConfirmAfter = o.confirmAfter
	}
	if o.recheck > 0 {
		s.Recheck = o.recheck
	}
	return s
}

// prober builds the prober.
func (o *probeOptions) prober() (*probe.Prober, error) {
	var allow []netip.Prefix
	for _, a := range o.allow {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			return nil, takedown.Errorf(takedown.EINVALID, "--probe-allow %q: want a CIDR range such as 192.0.2.0/24", a)
		}
		allow = append(allow, p)
	}
	out := o.outbound
	if out == nil && o.simnet != "" {
		var err error
		if out, err = outbound.LoadSimnet(o.simnet); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = &outbound.Config{}
	}
	if out.Simulated {
		// The simulated internet is on this machine's loopback.
		allow = append(allow, netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
	}
	rules := probe.DefaultRules()
	if o.rulesFile != "" {
		b, err := os.ReadFile(o.rulesFile)
		if err != nil {
			return nil, takedown.Errorf(takedown.EINVALID, "cannot read --probe-rules: %v", err)
		}
		own, err := probe.LoadRules(b)
		if err != nil {
			return nil, takedown.Errorf(takedown.EINVALID, "%s: %s", o.rulesFile, takedown.ErrorMessage(err))
		}
		rules = probe.Merge(rules, own)
	}
	if o.perHost < 0 || o.concurrency < 0 || o.rate < 0 || o.maxBytes < 0 {
		return nil, takedown.Errorf(takedown.EINVALID, "--probe-per-host, --probe-concurrency, --probe-rate and --probe-max-bytes must be positive")
	}
	limits, err := parseHostLimits(o.hostLimits)
	if err != nil {
		return nil, err
	}
	return probe.New(probe.Config{
		Outbound: out, Allow: allow, Classifier: rules, HostLimits: limits,
		PerHostConcurrency: o.perHost, PerHostRate: o.rate, GlobalConcurrency: o.concurrency,
		Timeout: o.timeout, MaxBytes: o.maxBytes, Region: o.region,
	})
}

// verify builds the scheduled probing of the job workers; nil with
// --no-probes.
func (o *probeOptions) verify(db database) (*jobs.Verify, error) {
	if !o.on {
		return nil, nil
	}
	p, err := o.prober()
	if err != nil {
		return nil, err
	}
	return &jobs.Verify{Store: db, Prober: p, Schedule: o.scheduleOf(), Every: o.every}, nil
}

// describe says where probes go, for the log.
func (o *probeOptions) describe() string {
	switch {
	case !o.on:
		return "off"
	case o.outbound != nil && o.outbound.Simulated, o.simnet != "":
		return "the simulated internet"
	}
	return fmt.Sprintf("the internet, %d per host, %g/s per host; allowed private ranges: %s", o.perHost, o.rate, dash(strings.Join(o.allow, ",")))
}

// parseHostLimits reads --probe-host-limit values: HOST=RATE[/AT-ONCE].
func parseHostLimits(values []string) (map[string]probe.HostLimit, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := map[string]probe.HostLimit{}
	for _, v := range values {
		host, spec, ok := strings.Cut(v, "=")
		rateText, onceText, hasOnce := strings.Cut(spec, "/")
		var l probe.HostLimit
		var err error
		if ok && host != "" {
			l.Rate, err = strconv.ParseFloat(rateText, 64)
			if err == nil && hasOnce {
				l.Concurrency, err = strconv.Atoi(onceText)
			}
		}
		if !ok || host == "" || err != nil || l.Rate <= 0 || math.IsInf(l.Rate, 0) || math.IsNaN(l.Rate) || (hasOnce && l.Concurrency <= 0) {
			return nil, takedown.Errorf(takedown.EINVALID, "--probe-host-limit %q: want HOST=RATE or HOST=RATE/AT-ONCE, such as t.me=10/4", v)
		}
		out[host] = l
	}
	return out, nil
}
