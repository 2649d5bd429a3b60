// Package metrics is what a takedown process tells Prometheus: how long
// its HTTP requests take, what its probes saw, how its deliveries went,
// and how many jobs of each kind wait in the shared queue. Configuration
// (where /metrics listens) is cmd's; the jobs and the server get a
// *Metrics, which may be nil (no metrics kept).
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// JobCount is how many jobs of a kind are in a state.
type JobCount struct {
	Kind, State string
	Count       int
}

// Queue reads the shared job queue's depth: the jobs not finished, by
// kind and state (available, scheduled, running, retryable).
type Queue interface {
	JobCounts(ctx context.Context) ([]JobCount, error)
}

// Metrics holds a process's metrics.
type Metrics struct {
	registry   *prometheus.Registry
	requests   *prometheus.HistogramVec
	probes     *prometheus.CounterVec
	deliveries *prometheus.CounterVec
}

// New makes the metrics, with the queue's depth read from queue at each
// scrape (nil: none) and the Go runtime's and the process's own.
func New(queue Queue, logger *slog.Logger) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "takedown_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by part (api, ui, other), method and status class.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"part", "method", "code"}),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "takedown_probe_outcomes_total",
			Help: "Probes of referred items recorded by this process, by verdict (online, offline, withheld, unknown, ...).",
		}, []string{"verdict"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "takedown_delivery_outcomes_total",
			Help: "Tries to deliver a referral by this process, by channel and the state they left it in (delivered, retrying, dead).",
		}, []string{"channel", "state"}),
	}
	m.registry.MustRegister(m.requests, m.probes, m.deliveries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if queue != nil {
		m.registry.MustRegister(&queueCollector{queue: queue, logger: logger})
	}
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	// A queue that cannot be read leaves its figures out, not the others.
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: m.registry})
}

// Instrument times the requests h answers, as part ("api", "ui", ...).
func (m *Metrics) Instrument(part string, h http.Handler) http.Handler {
	if m == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.requests.WithLabelValues(part, method(r.Method), strconv.Itoa(sw.status/100)+"xx").Observe(time.Since(start).Seconds())
	})
}

// method keeps the label's values few: an unknown method is "other".
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return m
	}
	return "other"
}

// Probe counts a recorded probe's verdict.
func (m *Metrics) Probe(verdict string) {
	if m != nil {
		m.probes.WithLabelValues(verdict).Inc()
	}
}

// Delivery counts a try at delivering a referral on channel, and the
// state it left the delivery in.
func (m *Metrics) Delivery(channel, state string) {
	if m != nil {
		m.deliveries.WithLabelValues(channel, state).Inc()
	}
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer beneath (flushes,
// deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// queueCollector reads the queue's depth when scraped: the queue is the
// database's, shared by every process, so each reports the same figure.
type queueCollector struct {
	queue  Queue
	logger *slog.Logger
}

var queueDesc = prometheus.NewDesc("takedown_jobs", "Jobs in the shared queue not finished, by kind and state.", []string{"kind", "state"}, nil)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.queue.JobCounts(ctx)
	if err != nil {
		if c.logger != nil {
			c.logger.Warn("metrics: reading the job queue's depth", "error", err)
		}
		ch <- prometheus.NewInvalidMetric(queueDesc, err)
		return
	}
	for _, jc := range counts {
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(jc.Count), jc.Kind, jc.State)
	}
}
