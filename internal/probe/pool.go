package probe

import (
	"container/heap"
	"context"
	"time"

	"github.com/takedown-project/takedown"
)

// ProbeAll probes every target read from targets, with a fixed pool of
// GlobalConcurrency workers, and sends each observation to out, in the
// order they end; it closes out when it returns, once targets is closed
// and every probe has ended, or once ctx is done (what was not probed by
// then gives no observation, and neither does a probe cut short).
//
// Workers never wait for a busy host. One dispatcher reads the targets
// into a queue per host, at most Backlog targets in all, and hands a
// target to an idle worker only when its host has a free slot and a
// token; it takes them for the worker, so the worker starts at once.
// Hosts take turns, round robin, one target each per round, so that a
// host with 100,000 items and one with 10 both make progress; a host
// without a free slot waits for one of its probes to end, a host without
// a token waits on a timer for its next one. A worker waits only within
// its own probe: between tries (holding its host's slot, so that a
// failing host ties up at most PerHostConcurrency workers) and at a
// redirect to another host, within the probe's Timeout. Memory is flat: the backlog
// is bounded (when it is full, reading stops), queues exist only for
// hosts with waiting targets, the hosts' politeness state is dropped when
// it is no longer needed (see hostTable), and there are GlobalConcurrency
// workers whatever the number of targets.
//
// The backlog is the window in which hosts can be interleaved: if one
// host's targets fill it, the pool goes at that host's pace until they
// drain. Feeding targets interleaved by host, or in batches spanning many
// hosts, keeps every worker busy.
func (p *Prober) ProbeAll(ctx context.Context, targets <-chan takedown.ProbeTarget, out chan<- takedown.Observation) error {
	defer close(out)
	d := newDispatcher(p)
	return d.run(ctx, targets, out)
}

// ProbeBatch probes a batch of targets through ProbeAll and returns
// their observations in the targets' order; when ctx ends first, the
// targets not probed are left out and ctx's error is returned.
func (p *Prober) ProbeBatch(ctx context.Context, targets []takedown.ProbeTarget) ([]takedown.Observation, error) {
	in := make(chan takedown.ProbeTarget)
	out := make(chan takedown.Observation, p.cfg.GlobalConcurrency)
	go func() {
		defer close(in)
		for i, t := range targets {
			// The pool carries the target's index in place of its item.
			t.ItemID = int64(i)
			select {
			case in <- t:
			case <-ctx.Done():
				return
			}
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- p.ProbeAll(ctx, in, out) }()
	obs := make([]takedown.Observation, len(targets))
	got := make([]bool, len(targets))
	for o := range out {
		i := o.ItemID
		o.ItemID = targets[i].ItemID
		obs[i], got[i] = o, true
	}
	err := <-errc
	if err == nil {
		return obs, nil
	}
	kept := obs[:0]
	for i, o := range obs {
		if got[i] {
			kept = append(kept, o)
		}
	}
	return kept, err
}

type job struct {
	t takedown.ProbeTarget
	h *hostState // the slot and token taken for the target's host; nil for a URL that is not probed
}

// hostQueue holds the targets of one host waiting for a worker.
type hostQueue struct {
	key   string
	items []takedown.ProbeTarget
	state queueState
	// at and index place the queue in the dispatcher's timer heap.
	at    time.Time
	index int
}

type queueState int

const (
	stateReady queueState = iota // in the ready list
	stateTimed                   // waiting for a token or a Retry-After
	stateSlot                    // waiting for a slot (and a timer, in case another caller frees it)
)

// slotRecheck is how long a host waiting for a slot waits at most before
// it is looked at again: its slots may be freed by probes this
// dispatcher does not see end (Probe called directly, a redirect that
// left the host).
const slotRecheck = 250 * time.Millisecond

type dispatcher struct {
	p       *Prober
	workers int
	queues  map[string]*hostQueue
	ready   []*hostQueue
	timed   timerHeap
	// free are targets whose URL is not probed (not an http URL): no
	// host to wait for.
	free    []takedown.ProbeTarget
	backlog int
}

func newDispatcher(p *Prober) *dispatcher {
	return &dispatcher{p: p, workers: p.cfg.GlobalConcurrency, queues: map[string]*hostQueue{}}
}

func (d *dispatcher) run(ctx context.Context, targets <-chan takedown.ProbeTarget, out chan<- takedown.Observation) error {
	p := d.p
	work := make(chan job, d.workers)
	done := make(chan string, d.workers)
	exited := make(chan struct{})
	for range d.workers {
		go func() {
			defer func() { exited <- struct{}{} }()
			for j := range work {
				o := p.probeLeased(ctx, j.t, j.h)
				if ctx.Err() == nil {
					select {
					case out <- o:
					case <-ctx.Done():
					}
				}
				key := ""
				if j.h != nil {
					key = j.h.key
				}
				done <- key
			}
		}()
	}
	defer func() {
		close(work)
		// Give back what was taken for jobs no worker will run.
		for j := range work {
			if j.h != nil {
				j.h.release()
				p.hosts.unref(j.h)
			}
		}
		for range d.workers {
			<-exited
		}
	}()

	idle := d.workers
	in := targets
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		for idle > 0 {
			j, ok := d.next(now)
			if !ok {
				break
			}
			work <- j
			idle--
		}
		if in == nil && d.backlog == 0 && idle == d.workers {
			return nil
		}
		recv := in
		if d.backlog >= p.cfg.Backlog {
			recv = nil // full: the targets wait in their channel
		}
		var tc <-chan time.Time
		if len(d.timed) > 0 {
			// Since Go 1.23 a Reset timer delivers no stale tick.
			timer.Reset(time.Until(d.timed[0].at))
			tc = timer.C
		}
		select {
		case t, ok := <-recv:
			if !ok {
				in = nil
				break
			}
			d.add(t)
		case key := <-done:
			idle++
			if q := d.queues[key]; q != nil && q.state == stateSlot {
				heap.Remove(&d.timed, q.index)
				d.makeReady(q)
			}
		case <-tc:
			now := time.Now()
			for len(d.timed) > 0 && !d.timed[0].at.After(now) {
				d.makeReady(heap.Pop(&d.timed).(*hostQueue))
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// add queues a target under its host.
func (d *dispatcher) add(t takedown.ProbeTarget) {
	d.backlog++
	key, ok := hostKey(t.URL)
	if !ok {
		d.free = append(d.free, t)
		return
	}
	q := d.queues[key]
	if q == nil {
		q = &hostQueue{key: key, index: -1}
		d.queues[key] = q
		d.makeReady(q)
	}
	q.items = append(q.items, t)
}

func (d *dispatcher) makeReady(q *hostQueue) {
	q.state = stateReady
	d.ready = append(d.ready, q)
}

// next finds a target that can start now: the next host in turn with a
// slot and a token, which it takes. Hosts that cannot start are set
// aside until they can.
func (d *dispatcher) next(now time.Time) (job, bool) {
	if len(d.free) > 0 {
		t := d.free[0]
		d.free[0] = takedown.ProbeTarget{}
		d.free = d.free[1:]
		d.backlog--
		return job{t: t}, true
	}
	for len(d.ready) > 0 {
		q := d.ready[0]
		d.ready[0] = nil
		d.ready = d.ready[1:]
		h := d.p.hosts.ref(q.key)
		ok, at := h.tryAcquire(now)
		if !ok {
			d.p.hosts.unref(h)
			if at.IsZero() {
				q.state, q.at = stateSlot, now.Add(slotRecheck)
			} else {
				q.state, q.at = stateTimed, at
			}
			heap.Push(&d.timed, q)
			continue
		}
		t := q.items[0]
		q.items[0] = takedown.ProbeTarget{}
		q.items = q.items[1:]
		d.backlog--
		if len(q.items) == 0 {
			delete(d.queues, q.key)
		} else {
			d.makeReady(q)
		}
		return job{t: t, h: h}, true
	}
	return job{}, false
}

// timerHeap orders waiting hosts by when to look at them again.
type timerHeap []*hostQueue

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	q := x.(*hostQueue)
	q.index = len(*h)
	*h = append(*h, q)
}
func (h *timerHeap) Pop() any {
	old := *h
	q := old[len(old)-1]
	old[len(old)-1] = nil
	q.index = -1
	*h = old[:len(old)-1]
	return q
}
